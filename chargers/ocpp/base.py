"""What the central system does the same way for every OCPP version.

Each version's module subclasses `CentralSystem` and registers its handlers with `@handles`.
On top of the RPC (`rpc.Endpoint`) this class refuses everything but BootNotification from a
charger that is not Accepted, and runs services on the database threads with the message
log riding along (`db`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, Protocol, TypeVar

from chargers.certificates.services.signing import signing_request_record
from chargers.models import EventKind
from chargers.ocpp import JsonDict
from chargers.ocpp.errors import FrameProblem
from chargers.ocpp.frames import now_iso, parse_timestamp
from chargers.ocpp.group_commit import group_commit
from chargers.ocpp.readers import FIRMWARE_STAGES, OTHER_STAGE, UPLOAD_STAGES, signing_ask
from chargers.ocpp.registration import EXPECTED_FOR_SECONDS
from chargers.ocpp.rpc import Endpoint, Socket, handles
from chargers.services.reports import (
    charger_boot_record,
    charger_event_record,
    charger_set_reported_status,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Security events the OCPP security whitepaper marks critical: they raise an alert.
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)


class CentralSocket(Socket, Protocol):
    """The consumer, as the central system sees it: it also keeps the message log."""

    def take_log(self) -> list[dict[str, Any]]: ...


class CentralSystem(Endpoint):
    # Chargers that are not Accepted may still send these (BootNotification, always).
    allowed_before_accepted = frozenset({"BootNotification"})
    socket: CentralSocket

    def __init__(
        self, socket: CentralSocket, *, charger_id: int, identity: str, registration_status: str
    ) -> None:
        super().__init__(socket)
        self.charger_id = charger_id
        self.identity = identity
        self.registration_status = registration_status
        # What a charger not Accepted may send all the same, because the CSMS asked for it:
        # action -> until when (time.monotonic()). Empty for nearly every socket.
        self.expected: dict[str, float] = {}

    def expect(self, actions: Iterable[str]) -> None:
        """The charger accepted a request that makes it send these (`registration`)."""
        until = time.monotonic() + EXPECTED_FOR_SECONDS
        for action in actions:
            self.expected[action] = until

    def describe(self) -> str:
        return self.identity

    def configuration_changed(self) -> None:
        """The charger's configuration may read differently now (a configuration reply was
        recorded, or it booted): forget what this socket remembers of it."""

    @property
    def accepted(self) -> bool:
        return self.registration_status == "Accepted"

    def refusal(self, action: str) -> FrameProblem | None:
        if self.accepted or action in self.allowed_before_accepted:
            return None
        if self.expected.get(action, 0.0) > time.monotonic():
            return None  # the CSMS asked for it (a trigger, a report): answered as usual
        return FrameProblem(
            "security",
            f"The charger is {self.registration_status}; only "
            "BootNotification and what the CSMS asks for are accepted until then.",
        )

    def db(self, function: Callable[_P, _R]) -> Callable[_P, Awaitable[_R]]:
        """Run a service on the database threads, in this socket's tenant scope, with the
        work of other sockets' messages in one transaction (`group_commit`).

        The message log rows gathered since the last trip ride along in the same trip, so
        the log costs no thread hop of its own.
        """

        async def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            work = functools.partial(function, *args, **kwargs)
            result: _R = await group_commit().run(work, self.socket.take_log(), self.charger_id)
            return result

        return run

    async def _boot(self, reported: JsonDict, *, reason: str = "") -> JsonDict:
        """Record a BootNotification; the answer's status is the charger's from now on."""
        answer = await self.db(charger_boot_record)(
            charger_id=self.charger_id, reported=reported, reason=reason
        )
        self.registration_status = answer.status
        self.configuration_changed()
        return {"currentTime": now_iso(), "interval": answer.interval, "status": answer.status}

    async def _event(self, kind: str, summary: str, payload: JsonDict) -> None:
        """Keep a message verbatim as a charger event."""
        await self.db(charger_event_record)(
            charger_id=self.charger_id, kind=kind, summary=summary, payload=payload
        )

    async def _event_and(
        self,
        kind: str,
        summary: str,
        payload: JsonDict,
        service: Callable[..., _R],
        **kwargs: Any,
    ) -> _R:
        """Keep a message verbatim as a charger event and hand what it means to `service`
        (with this charger's id), in one transaction: both are kept, or neither."""

        def both() -> _R:
            charger_event_record(
                charger_id=self.charger_id, kind=kind, summary=summary, payload=payload
            )
            return service(charger_id=self.charger_id, **kwargs)

        return await self.db(both)()

    async def _reported_status(self, field: str, kind: str, payload: JsonDict) -> None:
        """Keep the status a firmware, diagnostics or log notification reports, and the
        notification as a charger event; its meaning (the stage of the update or upload) goes
        to whoever follows the operation, in domain terms."""
        status = payload["status"]
        firmware = field == "firmware_status"
        stages = FIRMWARE_STAGES if firmware else UPLOAD_STAGES
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id,
            field=field,
            value=status,
            operation="firmware" if firmware else "upload",
            stage=stages.get(status, OTHER_STAGE),
            request_id=payload.get("requestId"),
        )
        await self._event(kind, status, payload)

    # Messages the same in 1.6 (with its security whitepaper) and in 2.0.1.

    @handles("Heartbeat")
    async def heartbeat(self, payload: JsonDict) -> JsonDict:
        return {"currentTime": now_iso()}

    @handles("FirmwareStatusNotification")
    async def firmware_status_notification(self, payload: JsonDict) -> JsonDict:
        await self._reported_status("firmware_status", EventKind.FIRMWARE_STATUS, payload)
        return {}

    @handles("SecurityEventNotification")
    async def security_event_notification(self, payload: JsonDict) -> JsonDict:
        await self.db(charger_event_record)(
            charger_id=self.charger_id,
            kind=EventKind.SECURITY_EVENT,
            summary=payload["type"],
            payload=payload,
            critical=payload["type"] in CRITICAL_SECURITY_EVENTS,
            at=parse_timestamp(payload["timestamp"]),
        )
        return {}

    @handles("SignCertificate")
    async def sign_certificate(self, payload: JsonDict) -> JsonDict:
        """1.6 security extension and 2.0.1 A02/A03: the CSR is checked and the verdict kept;
        an accepted one is signed by the tenant's CA and sent back (CertificateSigned) by a
        task once this answer is on its way."""
        ask = signing_ask(payload)
        verdict = await self.db(signing_request_record)(
            charger_id=self.charger_id, csr=ask.csr, use=ask.use, payload=payload
        )
        return {"status": "Accepted" if verdict.accepted else "Rejected"}
