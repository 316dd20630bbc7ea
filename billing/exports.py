"""Charge detail records, invoices and an invoice's lines as CSV, for the dashboard's downloads
and the API's exports: one definition of each table's columns, written by `cpms.exports` with
its formula guard on every cell (an id tag a charger sent or a customer's name must never become
a spreadsheet formula). Amounts in the row's currency, times ISO 8601 in the time zone the
caller gives."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from billing.models import ChargeDetailRecord, Invoice
from billing.pricing import from_minor
from chargers.metering import local_time
from cpms.exports import CHUNK, csv_download
from cpms.models import Tenant

HEADER = [
    "cdr_id",
    "session_id",
    "version",
    "superseded",
    "issued_at",
    "charger",
    "site",
    "evse_id",
    "id_token",
    "start_date_time",
    "end_date_time",
    "total_energy_kwh",
    "total_time_h",
    "total_parking_time_h",
    "currency",
    "total_excl_vat",
    "total_incl_vat",
    "tariff",
    "tariff_version",
]


def cdr_rows(records: QuerySet[ChargeDetailRecord], tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    rows = records.values_list(
        "pk",
        "session_id",
        "version",
        "superseded_by",
        "issued_at",
        "charger__identity",
        "site__name",
        "evse_id",
        "id_tag",
        "start_date_time",
        "end_date_time",
        "total_energy",
        "total_time",
        "total_parking_time",
        "currency",
        "total_excl_vat_minor",
        "total_incl_vat_minor",
        "tariff__name",
        "tariff_version__number",
    )
    for row in rows.iterator(chunk_size=CHUNK):
        (pk, session, version, superseded, issued, charger, site, evse, tag, start, end) = row[:11]
        energy, hours, parking, currency, excl, incl, tariff, tariff_version = row[11:]
        yield [
            pk,
            session,
            version,
            "yes" if superseded else "no",
            local_time(issued, tz).isoformat(),
            charger,
            site or "",
            evse,
            tag,
            local_time(start, tz).isoformat(),
            local_time(end, tz).isoformat(),
            energy,
            hours,
            parking,
            currency,
            from_minor(excl, currency),
            from_minor(incl, currency),
            tariff,
            tariff_version,
        ]


def cdrs_csv(
    records: QuerySet[ChargeDetailRecord],
    *,
    tz: zoneinfo.ZoneInfo,
    tenant: Tenant,
    filename: str,
) -> StreamingHttpResponse:
    """The records, oldest session first, as a CSV download named `filename`."""
    ordered = records.order_by("start_date_time", "pk")
    return csv_download(HEADER, cdr_rows(ordered, tz), tenant=tenant, filename=filename)


INVOICE_HEADER = [
    "number",
    "kind",
    "customer",
    "customer_vat_id",
    "issue_date",
    "period_start",
    "period_end",
    "currency",
    "total_excl_vat",
    "vat",
    "total_incl_vat",
    "credits",
    "credited_by",
    "facturx",
]


def invoice_rows(invoices: QuerySet[Invoice], tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    rows = invoices.select_related("credits").prefetch_related("credit_notes")
    for invoice in rows.iterator(chunk_size=CHUNK):
        currency = invoice.currency
        excl, incl = invoice.total_excl_vat_minor, invoice.total_incl_vat_minor
        yield [
            invoice.display_number,
            invoice.kind,
            invoice.recipient.get("name", ""),
            invoice.recipient.get("vat_id", ""),
            local_time(invoice.issued_at, tz).date().isoformat(),
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            currency,
            from_minor(excl, currency),
            from_minor(incl - excl, currency),
            from_minor(incl, currency),
            invoice.credits.display_number if invoice.credits else "",
            " ".join(note.display_number for note in invoice.credit_notes.all()),
            "yes" if invoice.facturx else "no",
        ]


def invoices_csv(
    invoices: QuerySet[Invoice], *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The invoices and credit notes, oldest first, as issued (the customer's name as the
    document shows it), as a CSV download named `filename`."""
    ordered = invoices.order_by("issued_at", "pk")
    return csv_download(INVOICE_HEADER, invoice_rows(ordered, tz), tenant=tenant, filename=filename)


LINE_HEADER = [
    "invoice",
    "line",
    "session_id",
    "cdr_id",
    "charger",
    "start_date_time",
    "end_date_time",
    "total_energy_kwh",
    "description",
    "currency",
    "total_excl_vat",
    "vat",
    "total_incl_vat",
]


def line_rows(invoice: Invoice, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    currency = invoice.currency
    lines = invoice.lines.select_related("cdr__charger").order_by("pk")
    for number, line in enumerate(lines, start=1):
        cdr = line.cdr
        excl, incl = line.total_excl_vat_minor, line.total_incl_vat_minor
        yield [
            invoice.display_number,
            number,
            cdr.session_id,
            cdr.pk,
            cdr.charger.identity,
            local_time(cdr.start_date_time, tz).isoformat(),
            local_time(cdr.end_date_time, tz).isoformat(),
            cdr.total_energy,
            line.description,
            currency,
            from_minor(excl, currency),
            from_minor(incl - excl, currency),
            from_minor(incl, currency),
        ]


def invoice_lines_csv(
    invoice: Invoice, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """One invoice's lines (a session each, negative on a credit note) as CSV."""
    return csv_download(LINE_HEADER, line_rows(invoice, tz), tenant=tenant, filename=filename)
