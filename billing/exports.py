"""Charge detail records as CSV, for the dashboard's download and the API's export: one
definition of the columns, with the chargers' formula guard on every cell (an id tag a charger
sent must never become a spreadsheet formula). Amounts in the record's currency, times ISO 8601
in the time zone the caller gives."""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from billing.models import ChargeDetailRecord
from billing.pricing import from_minor
from chargers.exports import neutralise
from chargers.metering import local_time
from cpms.models import Tenant
from cpms.tenancy import scoping

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
CHUNK = 2000


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


def _lines(rows: Iterator[list], tenant: Tenant) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    # The response streams after the view returns, outside the request's scope.
    with scoping.scope(tenant):
        for number, row in enumerate(rows, start=1):
            writer.writerow([neutralise(cell) for cell in row])
            if number % CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def cdrs_csv(
    records: QuerySet[ChargeDetailRecord],
    *,
    tz: zoneinfo.ZoneInfo,
    tenant: Tenant,
    filename: str,
) -> StreamingHttpResponse:
    """The records, oldest session first, as a CSV download named `filename`."""
    ordered = records.order_by("start_date_time", "pk")
    response = StreamingHttpResponse(
        _lines(cdr_rows(ordered, tz), tenant), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
