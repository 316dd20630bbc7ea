"""Sessions, chargers and id tokens as CSV: one definition of each table's columns and units for
every door (the dashboard's downloads, the site-owner portal's, the API's exports), written by
`cpms.exports` (streaming, the formula guard, the filename).

Times are ISO 8601 with their offset, in the time zone the caller gives (the tenant's or the
site's); energy is kWh with three decimals (watt-hour precision); a session's `integrity` lists
its flags (`chargers.integrity`), separated by spaces. Rows are read as plain tuples
of the exported columns: ten thousand chargers or a day of a large network's sessions as model
instances cost ~80 us a row, and no column costs a query per row.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from chargers.alerts.models import Alert
from chargers.integrity import session_flags, with_integrity
from chargers.metering import local_time
from chargers.models import Connector
from chargers.texts import stop_reason_shown
from cpms.exports import CHUNK, csv_download
from cpms.models import Tenant

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


def _time(moment, tz: zoneinfo.ZoneInfo) -> str:
    return local_time(moment, tz).isoformat() if moment else ""


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
            _time(started, tz),
            _time(stopped, tz),
            f"{energy / 1000:.3f}",
            stop_reason_shown(facts.stop_reason),
            " ".join(session_flags(facts)),
        ]


def sessions_csv(
    sessions: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The sessions, oldest first, as a CSV download named `filename`."""
    ordered = sessions.order_by("started_at", "pk")
    return csv_download(HEADER, session_rows(ordered, tz), tenant=tenant, filename=filename)


CHARGER_HEADER = [
    "identity",
    "site",
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "ocpp_version",
    "security_profile",
    "registration_status",
    "state",
    "last_seen",
    "connectors",
    "open_alerts",
    # Last: the columns before it kept their places when it came.
    "tags",
]


def _count(queryset: QuerySet) -> Coalesce:
    # A correlated count per charger: joining connectors and alerts both in one GROUP BY would
    # multiply one by the other.
    counted = queryset.order_by().values("charger").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def charger_rows(chargers: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    """`chargers` must carry the fleet `state` (`chargers.selectors.fleet.with_state`)."""
    rows = chargers.annotate(
        connector_count=_count(
            Connector.objects.filter(charger=OuterRef("pk"), connector_id__gt=0)
        ),
        open_alert_count=_count(
            Alert.objects.filter(charger=OuterRef("pk"), resolved_at__isnull=True)
        ),
    ).values_list(
        "identity",
        "site__name",
        "vendor",
        "model",
        "serial_number",
        "charge_box_serial_number",
        "firmware_version",
        "ocpp_version",
        "security_profile",
        "registration_status",
        "state",
        "last_seen",
        "connector_count",
        "open_alert_count",
        "tags",
    )
    for *first, last_seen, connectors, alerts, tags in rows.iterator(chunk_size=CHUNK):
        # Separated by spaces, as a session's integrity flags: a tag holds none.
        yield [*first, _time(last_seen, tz), connectors, alerts, " ".join(tags)]


def chargers_csv(
    chargers: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The chargers in the queryset's order (the list's), with their fleet state, as CSV."""
    return csv_download(
        CHARGER_HEADER, charger_rows(chargers, tz), tenant=tenant, filename=filename
    )


# The columns `chargers.token_csv` reads, in its order, first: an export is an import file.
TOKEN_HEADER = ["uid", "type", "label", "group", "blocked", "expires_at", "created_at"]


def id_token_rows(tokens: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[list]:
    rows = tokens.values_list(
        "uid", "type", "label", "group__uid", "blocked", "expires_at", "created_at"
    )
    for uid, kind, label, group, blocked, expires, created in rows.iterator(chunk_size=CHUNK):
        yield [
            uid,
            kind,
            label,
            group or "",
            "yes" if blocked else "no",
            _time(expires, tz),
            _time(created, tz),
        ]


def id_tokens_csv(
    tokens: QuerySet, *, tz: zoneinfo.ZoneInfo, tenant: Tenant, filename: str
) -> StreamingHttpResponse:
    """The id tokens, by uid, as a CSV download that the token import reads back unchanged."""
    ordered = tokens.order_by("uid", "pk")
    return csv_download(TOKEN_HEADER, id_token_rows(ordered, tz), tenant=tenant, filename=filename)
