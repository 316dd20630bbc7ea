"""Writes of what a charger reports about itself: boots, connector statuses, notifications kept
as events, and the progress of firmware and diagnostics operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
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
from cpms.events import publish
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
    charger = (
        Charger.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .annotate(
            has_open_sessions=Exists(
                ChargingSession.objects.filter(charger_id=OuterRef("pk"), state=SessionState.ACTIVE)
            )
        )
        .get(pk=charger_id)
    )
    previous_boot_at = charger.last_boot_at
    reported = {k: (v or "")[: _max_length(k)] for k, v in reported.items() if k in BOOT_FIELDS}
    changes = {k: [getattr(charger, k), v] for k, v in reported.items() if getattr(charger, k) != v}
    now = timezone.now()
    for field, value in reported.items():
        setattr(charger, field, value)
    charger.last_boot_at = now
    charger.last_seen = now
    charger.save(update_fields=[*reported, "last_boot_at", "last_seen"])
    status = charger.registration_status
    ChargerBoot.objects.create(
        charger=charger, at=now, reason=reason, reported=reported, changes=changes, answered=status
    )
    publish(ChargerBooted.of(charger, changes=changes, previous_boot_at=previous_boot_at))
    if charger.has_open_sessions:
        from chargers.services.sessions import sessions_close_lost  # (it imports this module)

        sessions_close_lost(charger_id=charger_id, booted_at=now)
    intervals: dict[str, int] = {
        RegistrationStatus.ACCEPTED: charger.tenant.heartbeat_interval,
        RegistrationStatus.PENDING: PENDING_RETRY_SECONDS,
    }
    interval = intervals.get(status, REJECTED_RETRY_SECONDS)
    return BootAnswer(status=status, interval=interval)


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
