"""The dashboard's customers: who pays for which id-token groups, with their tokens, sessions
and invoices; admins create and edit them (`billing.access`), every operator role reads."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from billing import access, documents, services
from billing.forms import CustomerForm
from billing.models import Customer, Invoice
from chargers.models import ChargingSession, IdToken
from cpms.forms import form_page, save_with
from cpms.tenancy.access import operator_view, role_at_least

# A customer's page shows its latest sessions; the invoices' CSV lines have every one.
SESSIONS_SHOWN = 50


@operator_view(read=access.READ)
def customer_list(request):
    customers = (
        Customer.objects.prefetch_related("groups__group")
        .annotate(invoice_count=Count("invoices", filter=Q(invoices__kind="invoice")))
        .order_by("name", "pk")
    )
    return render(request, "billing/customer_list.html", {"customers": customers})


@operator_view(read=access.READ)
def customer_detail(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    groups = [g.group for g in customer.groups.select_related("group").order_by("group__uid")]
    group_ids = [g.pk for g in groups]
    tokens = IdToken.objects.filter(group_id__in=group_ids).select_related("group")
    # A group's own token charges for the group too (a fleet's master card).
    sessions = (
        ChargingSession.objects.filter(
            Q(id_token__group_id__in=group_ids) | Q(id_token_id__in=group_ids)
        )
        .select_related("charger", "id_token")
        .order_by("-started_at", "-pk")[:SESSIONS_SHOWN]
    )
    zone = request.tenant.timezone
    invoices = Invoice.objects.filter(customer=customer).select_related("credits")
    return render(
        request,
        "billing/customer_detail.html",
        {
            "customer": customer,
            "groups": groups,
            "tokens": tokens.order_by("group__uid", "uid"),
            "sessions": sessions,
            "tz": zoneinfo.ZoneInfo(zone),
            "invoices": [(i, documents.issue_date(i.issued_at, zone)) for i in invoices],
            "can_manage": role_at_least(request, access.MANAGE_CUSTOMERS),
        },
    )


@operator_view(read=access.MANAGE_CUSTOMERS, write=access.MANAGE_CUSTOMERS)
def customer_edit(request, pk: int | None = None):
    customer = get_object_or_404(Customer, pk=pk) if pk else None
    form = CustomerForm(request.POST or None, instance=customer, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        if customer is None:
            saved = save_with(form, services.customer_create, **form.values())
        else:
            saved = save_with(form, services.customer_update, customer=customer, **form.values())
        if saved is not None:
            messages.success(request, gettext("Customer “%(name)s” saved.") % {"name": saved.name})
            return redirect("customer_detail", tenant_slug=request.tenant.slug, pk=saved.pk)
    return form_page(
        request, form, title=gettext("customer"), instance=customer, cancel="customer_list"
    )
