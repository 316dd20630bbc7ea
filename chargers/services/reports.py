"""Writes of what a charger reports about itself: boots, connector statuses, notifications kept
as events, and the progress of firmware and diagnostics operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from chargers.events import (
    ChargerBooted,
    ChargerEventRecorded,
    ConnectorStatusReported,
    OperationStatusReported,
)
from chargers.metering import charger_time
from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    Connector,
    RegistrationStatus,
    SessionState,
    StatusEvent,
)
from chargers.selectors.chargers import charger_and_tenant, with_its_tenant
from cpms.events import publish
from cpms.tenancy import rows
from cpms.tenancy.rows import insert_rows

BOOT_FIELDS = [
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
]


def _max_length(name: str) -> int | None:
    field = Charger._meta.get_field(name)
    return field.max_length if isinstance(field, models.Field) else None


PENDING_RETRY_SECONDS = 60


REJECTED_RETRY_SECONDS = 3600


@dataclass
class BootAnswer:
    status: str
    interval: int


# No savepoint: the OCPP handlers call this inside their message's transaction, which rolls
# back as a whole when anything here fails.
@transaction.atomic(savepoint=False)
def charger_boot_record(
    *, charger_id: int, reported: dict[str, str | None], reason: str = ""
) -> BootAnswer:
    """Keep what the charger says about itself, with the history of what changed."""
    # Only the charger's row is locked: locking its tenant's too would queue every boot of
    # the tenant behind the others (a fleet rebooting after a power cut). Whether it has
    # sessions open comes with it: asked at every boot, and most have none.
    charger, has_open_sessions = _locked_for_boot(charger_id)
    previous_boot_at = charger.last_boot_at
    reported = {k: (v or "")[: _max_length(k)] for k, v in reported.items() if k in BOOT_FIELDS}
    changes = {k: [getattr(charger, k), v] for k, v in reported.items() if getattr(charger, k) != v}
    now = timezone.now()
    for field, value in reported.items():
        setattr(charger, field, value)
    charger.last_boot_at = now
    charger.last_seen = now
    rows.save_fields(charger, [*reported, "last_boot_at", "last_seen"])
    status = charger.registration_status
    ChargerBoot.objects.create(
        charger=charger, at=now, reason=reason, reported=reported, changes=changes, answered=status
    )
    publish(ChargerBooted.of(charger, changes=changes, previous_boot_at=previous_boot_at))
    if has_open_sessions:
        from chargers.services.sessions import sessions_close_lost  # (it imports this module)

        sessions_close_lost(charger_id=charger_id, booted_at=now)
    intervals: dict[str, int] = {
        RegistrationStatus.ACCEPTED: charger.tenant.heartbeat_interval,
        RegistrationStatus.PENDING: PENDING_RETRY_SECONDS,
    }
    interval = intervals.get(status, REJECTED_RETRY_SECONDS)
    return BootAnswer(status=status, interval=interval)


def _locked_for_boot(charger_id: int) -> tuple[Charger, bool]:
    """The charger, locked, with its tenant, and whether it has sessions open: one fixed
    statement (a fleet rebooting at once compiled the ORM's for each boot)."""
    scope = rows.scope_params(Charger)
    with connection.cursor() as cursor:
        cursor.execute(
            _boot_statement(bool(scope)), [SessionState.ACTIVE.value, charger_id, *scope]
        )
        row = cursor.fetchone()
    if row is None:
        raise Charger.DoesNotExist(f"charger {charger_id}")
    return with_its_tenant(row), bool(row[-1])


@lru_cache(maxsize=2)
def _boot_statement(scoped: bool) -> str:
    quote = connection.ops.quote_name
    sessions = quote(ChargingSession._meta.db_table)
    open_sessions = (
        f"EXISTS (SELECT 1 FROM {sessions} s WHERE s.{quote('charger_id')} = c.{quote('id')}"  # noqa: S608
        f" AND s.{quote('state')} = %s)"
    )
    where = f"c.{quote('id')} = %s" + (f" AND c.{quote('tenant_id')} = %s" if scoped else "")
    # NO KEY UPDATE: the lock an UPDATE of non-key columns takes (`rows.locked_row`).
    features = connection.features
    lock = " FOR NO KEY UPDATE OF c" if features.has_select_for_no_key_update else ""
    return f"{charger_and_tenant(open_sessions)} WHERE {where}{lock}"


# No savepoint, as the session writes (chargers/services/sessions.py): a status notification
# is among a fleet's commonest messages, and nothing here is caught to carry on.
@transaction.atomic(savepoint=False)
def connector_status_record(
    *,
    charger_id: int,
    evse_id: int,
    connector_id: int,
    status: str,
    error_code: str | None = "",
    info: str | None = "",
    vendor_id: str | None = "",
    vendor_error_code: str | None = "",
    timestamp: datetime | None = None,
) -> None:
    """A connector's status. An implausible time is taken as the receipt time (flagged on the
    history), so that the newest status still wins."""
    now = timezone.now()
    at, suspect = charger_time(timestamp or now, now)
    values = {
        "status": status,
        "error_code": error_code or "",
        "info": info or "",
        "vendor_id": vendor_id or "",
        "vendor_error_code": vendor_error_code or "",
    }
    reported = StatusEvent.objects.create(
        charger_id=charger_id,
        evse_id=evse_id,
        connector_id=connector_id,
        timestamp=at,
        timestamp_suspect=suspect,
        received_at=now,
        **values,
    )
    # Statuses may arrive out of order after an offline period; the newest one wins. One
    # conditional UPDATE, so that two sockets of a reconnecting charger cannot interleave; a
    # connector's first status inserts its row instead (ON CONFLICT: one racing it on another
    # socket waits for it and inserts nothing, then applies its own if newer).
    connector = Connector.objects.filter(
        charger_id=charger_id, evse_id=evse_id, connector_id=connector_id
    )
    newer = connector.filter(Q(status_at__isnull=True) | Q(status_at__lte=at))
    if not newer.update(**values, status_at=at):
        row = {
            "tenant_id": reported.tenant_id,
            "charger_id": charger_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "status_at": at,
            **values,
        }
        if not insert_rows(Connector, [row], ignore_conflicts=True) and not newer.update(
            **values, status_at=at
        ):
            return
    publish(ConnectorStatusReported.of(reported))


@transaction.atomic
def charger_event_record(
    *,
    charger_id: int,
    kind: str,
    summary: str = "",
    payload: dict[str, Any] | None = None,
    critical: bool = False,
    at: datetime | None = None,
) -> ChargerEvent:
    """A notification kept as an event, dated `at` (the charger's time, kept in `payload` as
    sent) or, when that is missing or implausible, when it arrived."""
    now = timezone.now()
    event = ChargerEvent.objects.create(
        charger_id=charger_id,
        kind=kind,
        summary=summary[:255],
        payload=payload or {},
        critical=critical,
        at=charger_time(at or now, now).at,
    )
    publish(ChargerEventRecorded.of(event))
    return event


def charger_set_reported_status(
    *,
    charger_id: int,
    field: str,
    value: str,
    operation: str = "",
    stage: str = "",
    request_id: int | None = None,
) -> None:
    """Keep the status a firmware or upload notification reports; with an `operation`, tell
    whoever follows that operation (a firmware campaign, a diagnostics request)."""
    updated = Charger.objects.filter(pk=charger_id).update(**{field: value[:40]})
    if operation and updated:
        tenant_id = Charger.objects.filter(pk=charger_id).values_list("tenant_id", flat=True).get()
        publish(
            OperationStatusReported(
                tenant_id=tenant_id,
                charger_id=charger_id,
                operation=operation,
                status=value[:40],
                stage=stage,
                request_id=request_id,
            )
        )
