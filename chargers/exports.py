"""Sessions as CSV: one definition of the columns, their units and the formula guard for every
door (the dashboard's download, the site-owner portal's, the API's export).

A cell beginning with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice; an id tag or stop reason sent by a charger must never become one, so such cells
get a leading apostrophe (OWASP's advice for CSV injection). Times are ISO 8601 with their
offset, in the time zone the caller gives (the tenant's or the site's); energy is kWh with
three decimals (watt-hour precision); `integrity` lists the session's flags
(`chargers.integrity`), separated by spaces.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from chargers.integrity import session_flags, with_integrity
from chargers.metering import local_time
from cpms.models import Tenant
from cpms.tenancy import scoping

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = [
    "session_id",
    "charger",
    "site",
    "evse_id",
    "connector_id",
    "transaction_id",
    "id_token",
    "state",
    "started_at",
    "stopped_at",
    "energy_kwh",
    "stop_reason",
    "integrity",
]
# Rows per chunk of the streamed response: few large writes, bounded memory.
CHUNK = 2000


def neutralise(value) -> str:
    # A number is no formula: a credit note's -7.14 stays a number to the spreadsheet.
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


class _Facts(NamedTuple):
    """What `session_flags` reads of a session, from one row of `values_list`."""

    state: str
    stop_reason: str
    timestamp_suspect: bool
    closed_by_server: bool
    meter_start_wh: Decimal | None
    meter_stop_wh: Decimal | None
    meter_last_wh: Decimal | None
    stop_set_aside: bool


def session_rows(sessions: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    # Plain tuples of the exported columns: a day of a large network is thousands of rows, and
    # building a session, its charger and its site as model instances per row cost ~80 us each.
    rows = with_integrity(sessions).values_list(
        "pk",
        "charger__identity",
        "site__name",
        "evse_id",
        "connector_id",
        "transaction_id",
        "id_tag",
        "started_at",
        "stopped_at",
        "energy_wh",
        *_Facts._fields,
    )
    for row in rows.iterator(chunk_size=CHUNK):
        started, stopped, energy = row[7:10]
        facts = _Facts(*row[10:])
        yield [
            *row[:7],
            facts.state,
            local_time(started, tz).isoformat(),
            local_time(stopped, tz).isoformat() if stopped else "",
            f"{energy / 1000:.3f}",
            facts.stop_reason,
            " ".join(session_flags(facts)),
        ]


def _lines(rows: Iterable[list], tenant: Tenant) -> Iterator[str]:
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


def sessions_csv(
    sessions: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The sessions, oldest first, as a CSV download named `filename`."""
    ordered = sessions.order_by("started_at", "pk")
    response = StreamingHttpResponse(
        _lines(session_rows(ordered, tz), tenant), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
