"""A small CSMS for the simulator's tests, built only from the ocpp library's central side.

It listens on 127.0.0.1 with a free port, speaks OCPP 1.6 and 2.0.1 (by subprotocol), checks
HTTP Basic auth on the upgrade like our server (a refusal is HTTP 403), validates every frame
against the official schemas (the library does), and records every CALL a charger sends, with
its camelCase payload as it was on the wire, so tests can check the exact messages. It also
notes which of its own CALLs were answered, and when each charger's socket closed, in the order
of the frames: one socket delivers in order, so tests can reason about order, not time.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import unquote

from ocpp import v16, v201
from ocpp.charge_point import camel_to_snake_case
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

PASSWORD = "simulated-charger-password-1"
SUBPROTOCOLS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
# How long a test waits for something that is bound to happen: it returns as soon as it does,
# so only a failing test ever waits this long, and a slow machine never fails a good one.
PATIENCE = 30.0


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Frame:
    index: int
    charger_id: str
    action: str
    payload: dict


class _Recording:
    """Records each CALL, and the id of each answer, before the library routes it."""

    async def route_message(self, raw):
        message = json.loads(raw)
        if message[0] == 2:
            self.csms.record(self.id, message[2], message[3])
        else:
            self.csms.answered.add(message[1])
        await super().route_message(raw)


def _acknowledge(action: str, results, **fields):
    """A handler that answers `action` with `fields` (named on_<Action> for the library), once
    the test releases it if it holds `action` back (FakeCsms.hold)."""

    async def handler(self, **_):
        await self.csms.released(action)
        return getattr(results, action)(**fields)

    handler.__name__ = f"on_{action}"
    return on(action)(handler)


class Central16(_Recording, v16.ChargePoint):
    on_DataTransfer = _acknowledge("DataTransfer", result16, status="Accepted")
    on_SecurityEventNotification = _acknowledge("SecurityEventNotification", result16)
    on_SignCertificate = _acknowledge("SignCertificate", result16, status="Accepted")
    on_LogStatusNotification = _acknowledge("LogStatusNotification", result16)
    on_SignedFirmwareStatusNotification = _acknowledge("SignedFirmwareStatusNotification", result16)

    @on(Action16.boot_notification)
    def on_boot_notification(self, **_):
        status = self.csms.next_boot_status()
        interval = self.csms.heartbeat_interval if status == "Accepted" else 0
        return result16.BootNotification(current_time=now(), interval=interval, status=status)

    @on(Action16.heartbeat)
    def on_heartbeat(self):
        return result16.Heartbeat(current_time=now())

    @on(Action16.status_notification)
    def on_status_notification(self, **_):
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize(self, id_tag):
        return result16.Authorize(id_tag_info={"status": self.csms.authorize_status})

    @on(Action16.start_transaction)
    def on_start_transaction(self, **_):
        return result16.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info={"status": self.csms.authorize_status},
        )

    @on(Action16.stop_transaction)
    def on_stop_transaction(self, **_):
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action16.meter_values)
    def on_meter_values(self, **_):
        return result16.MeterValues()

    @on(Action16.firmware_status_notification)
    def on_firmware_status_notification(self, **_):
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **_):
        return result16.DiagnosticsStatusNotification()


class Central201(_Recording, v201.ChargePoint):
    on_DataTransfer = _acknowledge("DataTransfer", result201, status="Accepted")
    on_SecurityEventNotification = _acknowledge("SecurityEventNotification", result201)
    on_SignCertificate = _acknowledge("SignCertificate", result201, status="Accepted")
    on_Get15118EVCertificate = _acknowledge(
        "Get15118EVCertificate", result201, status="Accepted", exi_response="AAAA"
    )
    on_GetCertificateStatus = _acknowledge("GetCertificateStatus", result201, status="Accepted")
    on_NotifyEVChargingNeeds = _acknowledge("NotifyEVChargingNeeds", result201, status="Accepted")
    on_NotifyEVChargingSchedule = _acknowledge(
        "NotifyEVChargingSchedule", result201, status="Accepted"
    )
    on_NotifyMonitoringReport = _acknowledge("NotifyMonitoringReport", result201)
    on_NotifyChargingLimit = _acknowledge("NotifyChargingLimit", result201)
    on_ClearedChargingLimit = _acknowledge("ClearedChargingLimit", result201)
    on_ReportChargingProfiles = _acknowledge("ReportChargingProfiles", result201)
    on_NotifyDisplayMessages = _acknowledge("NotifyDisplayMessages", result201)
    on_NotifyCustomerInformation = _acknowledge("NotifyCustomerInformation", result201)
    on_PublishFirmwareStatusNotification = _acknowledge(
        "PublishFirmwareStatusNotification", result201
    )

    @on(Action201.boot_notification)
    def on_boot_notification(self, **_):
        status = self.csms.next_boot_status()
        interval = self.csms.heartbeat_interval if status == "Accepted" else 0
        return result201.BootNotification(current_time=now(), interval=interval, status=status)

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_):
        return result201.Heartbeat(current_time=now())

    @on(Action201.status_notification)
    def on_status_notification(self, **_):
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize(self, **_):
        return result201.Authorize(id_token_info={"status": self.csms.authorize_status})

    @on(Action201.transaction_event)
    def on_transaction_event(self, id_token=None, **_):
        if id_token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(id_token_info={"status": self.csms.authorize_status})

    @on(Action201.meter_values)
    def on_meter_values(self, **_):
        return result201.MeterValues()

    @on(Action201.firmware_status_notification)
    def on_firmware_status_notification(self, **_):
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def on_log_status_notification(self, **_):
        return result201.LogStatusNotification()

    @on(Action201.notify_report)
    def on_notify_report(self, **_):
        return result201.NotifyReport()

    @on(Action201.notify_event)
    def on_notify_event(self, **_):
        return result201.NotifyEvent()

    @on(Action201.reservation_status_update)
    def on_reservation_status_update(self, **_):
        return result201.ReservationStatusUpdate()


class FakeCsms:
    def __init__(
        self,
        *,
        password: str = PASSWORD,
        heartbeat_interval: int = 60,
        boot_statuses: tuple[str, ...] = (),
        tenant: str = "demo",
    ):
        self.password = password
        self.heartbeat_interval = heartbeat_interval
        self.boot_statuses = list(boot_statuses)
        self.tenant = tenant
        self.authorize_status = "Accepted"
        self.transaction_ids = itertools.count(1001)
        self.refusing = False
        self.frames: list[Frame] = []
        self.connects: Counter = Counter()
        self.refusals = 0
        self.answered: set[str] = set()  # ids of the CSMS's CALLs a charger answered
        # (charger id, number of frames recorded when its socket closed), one per closed socket
        self.disconnects: list[tuple[str, int]] = []
        self._held: dict[str, asyncio.Event] = {}
        self.centrals: dict[str, v16.ChargePoint | v201.ChargePoint] = {}
        self._sockets: dict[str, object] = {}
        self._changed = asyncio.Event()
        self._server = None
        self.url = ""

    async def __aenter__(self) -> FakeCsms:
        self._server = await serve(
            self._serve,
            "127.0.0.1",
            0,
            subprotocols=list(SUBPROTOCOLS),
            process_request=self._check,
            ping_interval=None,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ocpp/{self.tenant}/"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), PATIENCE)

    # --- the server -------------------------------------------------------------------

    def _identity(self, path: str) -> str | None:
        prefix = f"/ocpp/{self.tenant}/"
        return unquote(path[len(prefix) :]) if path.startswith(prefix) else None

    def _check(self, connection, request):
        identity = self._identity(request.path)
        expected = base64.b64encode(f"{identity}:{self.password}".encode()).decode()
        given = request.headers.get("Authorization", "")
        if self.refusing or identity is None or given != f"Basic {expected}":
            self.refusals += 1
            self._notify()
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def _serve(self, ws):
        identity = self._identity(ws.request.path)
        kind = {"1.6": Central16, "2.0.1": Central201}[SUBPROTOCOLS[ws.subprotocol]]
        central = kind(identity, ws, response_timeout=PATIENCE)
        central.csms = self
        self.centrals[identity] = central
        self._sockets[identity] = ws
        self.connects[identity] += 1
        self._notify()
        try:
            await central.start()
        except ConnectionClosed:
            pass
        finally:
            if self._sockets.get(identity) is ws:
                del self._sockets[identity]
            self.disconnects.append((identity, len(self.frames)))
            self._notify()

    def next_boot_status(self) -> str:
        return self.boot_statuses.pop(0) if self.boot_statuses else "Accepted"

    def record(self, charger_id: str, action: str, payload: dict) -> None:
        self.frames.append(Frame(len(self.frames), charger_id, action, payload))
        self._notify()

    def _notify(self) -> None:
        self._changed.set()

    async def released(self, action: str) -> None:
        gate = self._held.get(action)
        if gate is not None:
            await gate.wait()

    # --- what the tests use --------------------------------------------------------------

    def mark(self) -> int:
        """The index the next frame will get; pass it as `since` to look only at newer ones."""
        return len(self.frames)

    def payloads(self, action: str, *, since: int = 0, charger_id: str | None = None):
        return [
            f.payload
            for f in self.frames[since:]
            if f.action == action and charger_id in (None, f.charger_id)
        ]

    def actions(self, *, since: int = 0) -> list[str]:
        return [f.action for f in self.frames[since:]]

    async def until(self, predicate, timeout: float = PATIENCE, what: str = "condition"):
        async def waiting():
            while not (outcome := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return outcome

        try:
            return await asyncio.wait_for(waiting(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None

    async def wait_for(
        self,
        action: str,
        where=lambda payload: True,
        *,
        since: int = 0,
        count: int = 1,
        timeout: float = PATIENCE,
    ) -> list[dict]:
        """The first `count` payloads of `action` (matching `where`) from frame `since` on."""

        def found():
            matches = [p for p in self.payloads(action, since=since) if where(p)]
            return matches[:count] if len(matches) >= count else None

        return await self.until(found, timeout, f"{count} x {action}")

    def connected(self, charger_id: str) -> bool:
        return charger_id in self._sockets

    async def command(self, charger_id: str, action: str, payload: dict):
        """A CSMS-initiated call from its wire form (camelCase), as the server sends them."""
        central = self.centrals[charger_id]
        calls = v16.call if isinstance(central, v16.ChargePoint) else v201.call
        return await self.call(charger_id, getattr(calls, action)(**camel_to_snake_case(payload)))

    async def call(self, charger_id: str, payload):
        """A CSMS-initiated call; returns the charger's CALLRESULT as the library's dataclass."""
        return await asyncio.wait_for(
            self.centrals[charger_id].call(payload, suppress=False), PATIENCE
        )

    async def send_call(self, charger_id: str, action: str, payload: dict) -> str:
        """Send a CALL without waiting for its answer; returns its id (see `answered`)."""
        unique_id = str(uuid.uuid4())
        await self._sockets[charger_id].send(json.dumps([2, unique_id, action, payload]))
        return unique_id

    def hold(self, action: str) -> Callable[[], None]:
        """Answer no `action` until the returned release() is called (only the actions with
        a plain acknowledgement, such as DataTransfer, can be held)."""
        gate = self._held[action] = asyncio.Event()

        def release() -> None:
            gate.set()
            if self._held.get(action) is gate:
                del self._held[action]

        return release

    async def drop(self, charger_id: str) -> None:
        """Close the charger's socket from the server side, as a crashing server would."""
        await self._sockets[charger_id].close(code=1011, reason="dropped by test")
