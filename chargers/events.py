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
        return cls.from_row(charger, charger_id=charger.pk, ocpp_version=ocpp_version)


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
        return cls.from_row(charger, charger_id=charger.pk)


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
        return cls.from_row(
            charger,
            charger_id=charger.pk,
            status=str(charger.registration_status),
            changes=changes,
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
        return cls.from_row(reported, at=reported.timestamp)


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
        return cls.from_row(event, event_id=event.pk)


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
        return cls.from_row(refusal)


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
        return cls.from_row(
            session,
            session_id=session.pk,
            # Decimal(): a session created in this transaction still holds the default 0.
            energy_wh=Decimal(session.energy_wh),
            power_w=None if session.power_w is None else Decimal(session.power_w),
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
class DeviceModelReported(DomainEvent):
    """A charger reported part of its device model (one NotifyReport): what configuration
    drift is compared with. For the operators' side only: no webhook, nothing for the portal."""

    name = "charger.device_model_reported"

    charger_id: int
    attributes: int


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


@dataclass(frozen=True, kw_only=True)
class IdTokenBlocked(DomainEvent):
    """An id token was blocked (a lost or stolen card): chargers that keep it on their local
    lists should hear of it at once. For the operators' pages only: no webhook."""

    name = "id_token.blocked"

    token_id: int
    uid: str
