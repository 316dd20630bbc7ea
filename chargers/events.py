"""The charger domain's events: what services publish when a charger connects, boots, reports a
status or a notification, and when a charging session starts, moves on or stops.

Each class is the one definition of its event for the services that build it (`.of(...)` from the
row they wrote), the live dashboards (`name` and `data()`), the webhooks (`webhook`, the type
integrators subscribe to; the fields are the payload's `data`) and the site-owner portal
(`portal`). The bus is `cpms.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Self

from cpms.events import DomainEvent, only_when_set

if TYPE_CHECKING:
    from chargers.models import (
        Charger,
        ChargerEvent,
        ChargingSession,
        HandshakeRefusal,
        StatusEvent,
    )


@dataclass(frozen=True, kw_only=True)
class ChargerOnline(DomainEvent):
    """A socket of the charger opened, or a charger marked offline was heard from again (then
    without `ocpp_version`)."""

    name = "charger.online"
    webhook = "charger.online"
    portal = True

    charger_id: int
    identity: str
    ocpp_version: str | None = only_when_set()

    @classmethod
    def of(cls, charger: Charger, *, ocpp_version: str | None = None) -> Self:
        return cls(
            tenant_id=charger.tenant_id,
            charger_id=charger.pk,
            identity=charger.identity,
            ocpp_version=ocpp_version,
        )


@dataclass(frozen=True, kw_only=True)
class ChargerOffline(DomainEvent):
    """The charger's socket closed, or it stayed silent too long."""

    name = "charger.offline"
    webhook = "charger.offline"
    portal = True

    charger_id: int
    identity: str

    @classmethod
    def of(cls, charger: Charger) -> Self:
        return cls(tenant_id=charger.tenant_id, charger_id=charger.pk, identity=charger.identity)


@dataclass(frozen=True, kw_only=True)
class ChargerBooted(DomainEvent):
    """A BootNotification: what changed in what the charger says about itself, and the
    answer it got."""

    name = "charger.boot"

    charger_id: int
    identity: str
    status: str
    changes: dict[str, list[str]]
    firmware_version: str
    previous_boot_at: datetime | None

    @classmethod
    def of(
        cls, charger: Charger, *, changes: dict[str, list[str]], previous_boot_at: datetime | None
    ) -> Self:
        return cls(
            tenant_id=charger.tenant_id,
            charger_id=charger.pk,
            identity=charger.identity,
            status=str(charger.registration_status),
            changes=changes,
            firmware_version=charger.firmware_version,
            previous_boot_at=previous_boot_at,
        )


@dataclass(frozen=True, kw_only=True)
class ConnectorStatusReported(DomainEvent):
    """A connector's status, once it is the newest the connector has reported."""

    name = "connector.status"
    webhook = "charger.status"
    portal = True

    charger_id: int
    evse_id: int
    connector_id: int
    status: str
    error_code: str
    info: str
    vendor_id: str
    vendor_error_code: str
    at: datetime

    @classmethod
    def of(cls, reported: StatusEvent) -> Self:
        return cls(
            tenant_id=reported.tenant_id,
            charger_id=reported.charger_id,
            evse_id=reported.evse_id,
            connector_id=reported.connector_id,
            status=reported.status,
            error_code=reported.error_code,
            info=reported.info,
            vendor_id=reported.vendor_id,
            vendor_error_code=reported.vendor_error_code,
            at=reported.timestamp,
        )


@dataclass(frozen=True, kw_only=True)
class ChargerEventRecorded(DomainEvent):
    """A notification kept as a charger event (firmware, diagnostics, security and others)."""

    name = "charger.event"

    charger_id: int
    event_id: int
    kind: str
    summary: str
    critical: bool
    at: datetime

    @classmethod
    def of(cls, event: ChargerEvent) -> Self:
        return cls(
            tenant_id=event.tenant_id,
            charger_id=event.charger_id,
            event_id=event.pk,
            kind=str(event.kind),
            summary=event.summary,
            critical=event.critical,
            at=event.at,
        )


@dataclass(frozen=True, kw_only=True)
class OperationStatusReported(DomainEvent):
    """A charger said how a firmware update or a diagnostics/log upload it was asked for is
    going: `status` as it said it, `stage` what that means whatever its OCPP version
    (`chargers.ocpp.readers.FIRMWARE_STAGES`, `UPLOAD_STAGES`), and the request it answers
    when the message names one."""

    name = "charger.operation_status"

    charger_id: int
    operation: str  # "firmware" or "upload"
    status: str
    stage: str
    request_id: int | None = only_when_set()


@dataclass(frozen=True, kw_only=True)
class HandshakeRefused(DomainEvent):
    """A WebSocket upgrade was refused; without a tenant when the URL named none we know."""

    name = "handshake.refused"

    reason: str
    identity: str
    remote_addr: str
    at: datetime

    @classmethod
    def of(cls, refusal: HandshakeRefusal) -> Self:
        return cls(
            tenant_id=refusal.tenant_id,
            reason=refusal.reason,
            identity=refusal.identity,
            remote_addr=refusal.remote_addr,
            at=refusal.at,
        )


@dataclass(frozen=True, kw_only=True)
class SessionEvent(DomainEvent):
    """What every session event says about its session."""

    portal = True

    session_id: int
    charger_id: int
    transaction_id: str
    evse_id: int
    id_tag: str
    state: str
    energy_wh: Decimal
    power_w: Decimal | None
    started_at: datetime
    stopped_at: datetime | None
    stop_reason: str

    @classmethod
    def of(cls, session: ChargingSession) -> Self:
        return cls(
            tenant_id=session.tenant_id,
            session_id=session.pk,
            charger_id=session.charger_id,
            transaction_id=session.transaction_id,
            evse_id=session.evse_id,
            id_tag=session.id_tag,
            state=str(session.state),
            # Decimal(): a session created in this transaction still holds the default 0.
            energy_wh=Decimal(session.energy_wh),
            power_w=None if session.power_w is None else Decimal(session.power_w),
            started_at=session.started_at,
            stopped_at=session.stopped_at,
            stop_reason=session.stop_reason,
        )


@dataclass(frozen=True, kw_only=True)
class SessionStarted(SessionEvent):
    name = "session.started"
    webhook = "session.started"


@dataclass(frozen=True, kw_only=True)
class SessionUpdated(SessionEvent):
    """New meter figures, or other news of a running session."""

    name = "session.updated"
    webhook = "session.updated"


@dataclass(frozen=True, kw_only=True)
class SessionStopped(SessionEvent):
    name = "session.stopped"
    webhook = "session.stopped"


@dataclass(frozen=True, kw_only=True)
class CommandFinished(DomainEvent):
    """A command's outcome was recorded: who sent what to which charger and how it ended,
    never the reply (it may carry configuration values; readers who may see it fetch the
    command). For the operators' pages only: no webhook, nothing for the portal."""

    name = "command.finished"

    command_id: int
    charger_id: int
    action: str
    status: str
