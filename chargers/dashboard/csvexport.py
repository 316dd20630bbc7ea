"""CSV downloads that spreadsheets open safely.

A cell beginning with = + - @ (or a tab or carriage return) is a formula to Excel and
LibreOffice; an id tag or stop reason sent by a charger must never become one, so such cells
get a leading apostrophe (OWASP's advice for CSV injection).
"""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_STARTS) else text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    """The rows are written while the view runs: the tenant scope that reads them ends with the
    request, so a streamed body read later by the server could not reach the database."""
    # Written to a buffer and handed over once: writing each row to the response re-encoded
    # and appended it separately, a third of the time of a day's export (bench.pages).
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
