"""The one CSV writer behind every download (sessions, charge detail records, invoices,
chargers, alerts, id tokens): a streamed response, the formula guard on every cell, and a
filename naming the tenant and the moment.

A cell beginning with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice; an id tag or stop reason sent by a charger, or a label typed by anyone, must never
become one, so such cells get a leading apostrophe (OWASP's advice for CSV injection). A new
export is a header and a generator of rows handed to `csv_download`.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from cpms.models import Tenant
from cpms.tenancy import scoping

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows per chunk of the streamed response: few large writes, bounded memory.
CHUNK = 2000


def neutralise(value) -> str:
    # Text first: most cells are, and an export writes hundreds of thousands of them.
    if value.__class__ is str:
        return "'" + value if value.startswith(DANGEROUS_STARTS) else value
    if value is None:
        return ""
    # A number is no formula: a credit note's -7.14 stays a number to the spreadsheet.
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


def restore(text: str) -> str:
    """A cell as it was before `neutralise`, for imports that read our own exports back."""
    if text.startswith("'") and text[1:].startswith(DANGEROUS_STARTS):
        return text[1:]
    return text


def csv_lines(
    header: list[str], rows: Iterable[list], tenant: Tenant, language: str | None = None
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    # The response streams after the view returns, outside the request's scope and language:
    # the texts in its cells (`cpms.texts`) are written in the language of whoever asked.
    with scoping.scope(tenant), translation.override(language):
        for number, row in enumerate(rows, start=1):
            writer.writerow([neutralise(cell) for cell in row])
            if number % CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def csv_download(
    header: list[str], rows: Iterable[list], *, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """`rows` (lists of cells, in `header`'s order) as a UTF-8 CSV download named `filename`."""
    response = StreamingHttpResponse(
        csv_lines(header, rows, tenant, translation.get_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_filename(kind: str, tenant: Tenant) -> str:
    """`<kind>-<tenant slug>-<YYYYmmdd-HHMM>.csv`, the moment in the tenant's time zone."""
    tz = zoneinfo.ZoneInfo(tenant.timezone)
    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
    return f"{kind}-{tenant.slug}-{stamp}.csv"


def refused(params, allowed: Mapping[str, Iterable[str]]) -> str | None:
    """The first filter in `params` whose value is not one `allowed` names, as a message naming
    the field; None when every one is good. An empty value means no filter."""
    for field, values in allowed.items():
        value = params.get(field, "").strip()
        choices = list(values)
        if value and value not in choices:
            return f"{field}: {value[:40]!r} is not one of {', '.join(choices)}."
    return None
