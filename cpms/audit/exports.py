"""The audit log as CSV (dashboard and API), written by `cpms.exports` (streaming, the formula
guard: an object's label or a changed value typed by anyone never becomes a formula).

Columns: entry_id, at (ISO 8601 in the tenant's time zone), actor_kind, actor (email, or key
name and prefix), actor_role, door (web, api, command), ip_address, user_agent, action,
object_type, object_id, object_label, changes (JSON: {field: {before, after}}, secrets masked).
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from cpms.exports import CHUNK, csv_download
from cpms.models import Tenant

HEADER = [
    "entry_id",
    "at",
    "actor_kind",
    "actor",
    "actor_role",
    "door",
    "ip_address",
    "user_agent",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "changes",
]


def entry_rows(entries: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    rows = entries.values_list(
        "pk",
        "at",
        "actor_kind",
        "actor_label",
        "actor_role",
        "door",
        "ip_address",
        "user_agent",
        "action",
        "object_type",
        "object_id",
        "object_label",
        "changes",
    )
    for row in rows.iterator(chunk_size=CHUNK):
        pk, at, *middle, changes = row
        yield [
            pk,
            timezone.localtime(at, tz).isoformat(),
            *("" if cell is None else cell for cell in middle),
            json.dumps(changes, sort_keys=True, ensure_ascii=False),
        ]


def audit_csv(
    entries: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The entries, oldest first, as a CSV download named `filename`."""
    ordered = entries.order_by("at", "pk")
    return csv_download(HEADER, entry_rows(ordered, tz), tenant=tenant, filename=filename)
