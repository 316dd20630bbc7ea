"""Invoices, credit notes and statements as documents. Each has one template
(`templates/billing/documents/`) that the dashboard's and the portal's pages include and
WeasyPrint renders as PDF, styled by one stylesheet (`static/billing/document.css`) on screen,
on paper and in the PDF.

PDFs are rendered on request rather than stored at issue: a document's rows never change after
issue, its parties included (`billing.parties`), so each download shows the same content, and
there are no files to keep, back up and scope per tenant. A render takes a few tenths of a
second."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from pathlib import Path
from typing import Any

import weasyprint
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from billing import einvoice
from billing.models import Invoice, Statement

STYLESHEET = "billing/document.css"
# Documents show only text they hold: the renderer fetches nothing (no file, no URL), so no
# name a customer typed can make the server read or request anything.
NOTHING = weasyprint.URLFetcher(allowed_protocols=())


def issue_date(issued_at: datetime, tenant_zone: str) -> date:
    """The date a document was issued, in its tenant's time zone (what it says it is)."""
    return timezone.localtime(issued_at, zoneinfo.ZoneInfo(tenant_zone)).date()


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """What the invoice template shows: the rows as issued, read in the caller's scope."""
    zone = invoice.tenant.timezone
    credited = invoice.credits
    return {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "issue_date": issue_date(invoice.issued_at, zone),
        "credited_date": issue_date(credited.issued_at, zone) if credited else None,
    }


def statement_context(statement: Statement) -> dict[str, Any]:
    return {
        "statement": statement,
        "issue_date": issue_date(statement.issued_at, statement.tenant.timezone),
    }


def _pdf(template: str, context: dict[str, Any], *, title: str, variant: str | None) -> bytes:
    html = render_to_string(
        "billing/documents/pdf.html", {**context, "document": template, "title": title}
    )
    found = finders.find(STYLESHEET)
    if not isinstance(found, str):
        raise ImproperlyConfigured(f"The documents' stylesheet {STYLESHEET} is missing.")
    css = weasyprint.CSS(string=Path(found).read_text(), url_fetcher=NOTHING)
    document = weasyprint.HTML(string=html, url_fetcher=NOTHING).render(stylesheets=[css])
    return document.write_pdf(pdf_variant=variant)


def invoice_title(invoice: Invoice) -> str:
    return f"{invoice.get_kind_display()} {invoice.display_number}"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF; one issued as a Factur-X e-invoice is a PDF/A-3 with its EN 16931
    XML embedded as factur-x.xml (what PDF/A-3 allows and Factur-X asks for)."""
    context = invoice_context(invoice)
    template = "billing/documents/invoice.html"
    title = invoice_title(invoice)
    if not invoice.facturx:
        return _pdf(template, context, title=title, variant=None)
    content = _pdf(template, context, title=title, variant="pdf/a-3b")
    xml = einvoice.cii_xml(
        invoice, issued=context["issue_date"], credited_issued=context["credited_date"]
    )
    return einvoice.embed(content, xml, invoice=invoice, title=title)


def statement_title(statement: Statement) -> str:
    """The statement's title in the reader's language, as its page writes it."""
    return gettext("Statement %(month)s (%(currency)s)") % {
        "month": formats.date_format(statement.period_start, "F Y"),
        "currency": statement.currency,
    }


def statement_pdf(statement: Statement) -> bytes:
    return _pdf(
        "billing/documents/statement.html",
        statement_context(statement),
        title=statement_title(statement),
        variant=None,
    )


def invoice_filename(invoice: Invoice, suffix: str = ".pdf") -> str:
    return f"{invoice.display_number}{suffix}"


def statement_filename(statement: Statement) -> str:
    owner = slugify(statement.recipient.get("name", "")) or "site-owner"
    return f"statement-{owner}-{statement.period_start:%Y-%m}-{statement.currency.lower()}.pdf"


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # An invoice's PDF is personal data of the customer: no shared cache keeps it.
    response["Cache-Control"] = "private, no-store"
    return response
