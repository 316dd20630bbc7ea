"""The dashboard's invoices and statements, as pages that print as they are, PDFs and CSV, and
the billing settings their documents take the seller's details from. Roles from
`billing.access`; documents from `billing.documents`, tables from `billing.exports`."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from billing import access, documents, selectors, services
from billing.exports import invoice_lines_csv, invoices_csv
from billing.forms import BillingSettingsForm
from billing.models import Customer, Invoice, Statement
from cpms.forms import save_with
from cpms.models import SiteOwner
from cpms.paging import pager_params
from cpms.tenancy.access import operator_view


def _invoices(request) -> QuerySet[Invoice]:
    """The invoices the list shows, filtered as its form asks; its CSV exports the same."""
    invoices = Invoice.objects.select_related("customer", "credits")
    customer = request.GET.get("customer", "")
    if customer.isdigit():
        invoices = invoices.filter(customer_id=int(customer))
    return invoices


def _issued_on(page, zone: str) -> list:
    """A page's documents with the day each was issued in the tenant's time zone: what the
    documents themselves say, not the UTC day."""
    return [(document, documents.issue_date(document.issued_at, zone)) for document in page]


@operator_view(read=access.READ)
def invoice_list(request):
    page = Paginator(_invoices(request), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/invoice_list.html",
        {
            "page": page,
            "rows": _issued_on(page, request.tenant.timezone),
            "params": pager_params(request.GET),
            "customers": Customer.objects.prefetch_related("groups__group"),
        },
    )


@operator_view(read=access.READ)
def invoice_export(request):
    return invoices_csv(
        _invoices(request),
        tz=zoneinfo.ZoneInfo(request.tenant.timezone),
        tenant=request.tenant,
        filename="invoices.csv",
    )


def _invoice(pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("tenant", "credits"), pk=pk)


@operator_view(read=access.READ)
def invoice_detail(request, pk: int):
    """The invoice as a document: the page prints as it is (the frame stays off paper)."""
    invoice = _invoice(pk)
    return render(
        request,
        "billing/invoice_detail.html",
        {**documents.invoice_context(invoice), "credit_notes": invoice.credit_notes.all()},
    )


@operator_view(read=access.READ)
def invoice_pdf(request, pk: int):
    invoice = _invoice(pk)
    return documents.pdf_response(
        documents.invoice_pdf(invoice), documents.invoice_filename(invoice)
    )


@operator_view(read=access.READ)
def invoice_lines_export(request, pk: int):
    invoice = _invoice(pk)
    return invoice_lines_csv(
        invoice,
        tz=zoneinfo.ZoneInfo(request.tenant.timezone),
        tenant=request.tenant,
        filename=documents.invoice_filename(invoice, "-lines.csv"),
    )


@operator_view(read=access.READ)
def statement_list(request):
    statements = Statement.objects.all()
    owner = request.GET.get("site_owner", "")
    if owner.isdigit():
        statements = statements.filter(site_owner_id=int(owner))
    page = Paginator(statements, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/statement_list.html",
        {
            "page": page,
            "rows": _issued_on(page, request.tenant.timezone),
            "params": pager_params(request.GET),
            "owners": SiteOwner.objects.all(),
        },
    )


def _statement(pk: int) -> Statement:
    return get_object_or_404(Statement.objects.select_related("tenant"), pk=pk)


@operator_view(read=access.READ)
def statement_detail(request, pk: int):
    return render(
        request,
        "billing/statement_detail.html",
        documents.statement_context(_statement(pk)),
    )


@operator_view(read=access.READ)
def statement_pdf(request, pk: int):
    statement = _statement(pk)
    return documents.pdf_response(
        documents.statement_pdf(statement), documents.statement_filename(statement)
    )


@operator_view(read=access.MANAGE_BILLING_SETTINGS, write=access.MANAGE_BILLING_SETTINGS)
def billing_settings(request):
    """The seller's legal details and payment terms invoices show, Factur-X e-invoices, and
    how often chargers show a running session's cost."""
    form = BillingSettingsForm(
        request.POST or None, instance=selectors.billing_settings(), tenant=request.tenant
    )
    if request.method == "POST" and form.is_valid():
        saved = save_with(form, services.billing_settings_set, **form.values())
        if saved is not None:
            messages.success(
                request, gettext("Billing settings saved; invoices issued from now on follow them.")
            )
            return redirect("billing_settings", tenant_slug=request.tenant.slug)
    return render(request, "billing/billing_settings.html", {"form": form})
