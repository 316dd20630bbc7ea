"""Alerts as CSV, for the dashboard's download and the API's export: written by `cpms.exports`
(streaming, the formula guard), times ISO 8601 in the caller's time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from chargers.metering import local_time
from cpms.exports import CHUNK, csv_download
from cpms.models import Tenant
from cpms.texts import localized

HEADER = [
    "alert_id",
    "kind",
    "severity",
    "charger",
    "site",
    "evse_id",
    "connector_id",
    "title",
    "detail",
    "opened_at",
    "acknowledged_at",
    "acknowledged_by",
    "acknowledgement_note",
    "resolved_at",
]


def alert_rows(alerts: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    rows = alerts.values_list(
        "pk",
        "kind",
        "severity",
        "charger__identity",
        "charger__site__name",
        "evse_id",
        "connector_id",
        "title",
        "detail",
        "opened_at",
        "acknowledged_at",
        "acknowledged_by__email",
        "acknowledgement_note",
        "resolved_at",
        "title_text",
        "detail_text",
    )
    for row in rows.iterator(chunk_size=CHUNK):
        (pk, kind, severity, charger, site, evse, connector, title, detail, opened) = row[:10]
        acknowledged, by, note, resolved, title_text, detail_text = row[10:]
        yield [
            pk,
            kind,
            severity,
            charger or "",
            site or "",
            "" if evse is None else evse,
            "" if connector is None else connector,
            localized(title_text, title),
            localized(detail_text, detail),
            local_time(opened, tz).isoformat(),
            local_time(acknowledged, tz).isoformat() if acknowledged else "",
            by or "",
            note,
            local_time(resolved, tz).isoformat() if resolved else "",
        ]


def alerts_csv(
    alerts: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The alerts, oldest first, as a CSV download named `filename`."""
    ordered = alerts.order_by("opened_at", "pk")
    return csv_download(HEADER, alert_rows(ordered, tz), tenant=tenant, filename=filename)
