"""A simulated charger: connection, boot, heartbeats, sessions, queues, faults and reboots.

Everything that is the same in OCPP 1.6 and 2.0.1 lives here; `v16.py` and `v201.py` add the
messages and command handlers of their version.

How messages leave the charger: everything but BootNotification and Heartbeat goes through one
outbox, sent in order by one sender task, one CALL at a time as OCPP requires. Transaction
messages are persistent: while the charger is offline they wait in the outbox and are sent in
order after the reconnect, and a CALLERROR or timeout is retried a few times, as real chargers
do. Other messages (StatusNotification, Authorize, ...) are volatile: offline they are not
sent at all, and the charger reports every connector's status again after reconnecting.
Payloads are built when they are sent, so a 1.6 StopTransaction queued offline carries the
transactionId the CSMS returned for its StartTransaction, which was queued before it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import itertools
import json
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from chargers.simulator import uploads
from chargers.simulator.certificates import PEM_CERTIFICATE, Certificates
from chargers.simulator.config import ChargerConfig
from chargers.simulator.events import Event, Stats, iso, now_utc
from chargers.simulator.limits import Limits, parse_profile
from chargers.simulator.meter import MEASURANDS, NOMINAL_VOLTAGE, PHASES, Meter, Reading, Vehicle

CHARGING_PHASES = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
FAULT_CODES = ("GroundFailure", "OverCurrentFailure", "HighTemperature", "PowerMeterFailure")
SECRET_NAMES = ("authorizationkey", "basicauthpassword")
REPORT_PART = 10  # items per message of a report sent in parts
# Security events a charger reports in passing (the critical ones raise alerts; these do not).
ROUTINE_SECURITY_EVENTS = (
    "FailedToAuthenticateAtCsms",
    "InvalidCsmsCertificate",
    "InvalidTLSVersion",
    "ReconfigurationOfSecurityParameters",
)


class Offline(Exception):
    """The charger has no connection it may use right now."""


@dataclass
class Reservation:
    id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    timer: asyncio.TimerHandle | None = None


@dataclass
class Session:
    connector_id: int
    id_tag: str
    number: int
    started_at: datetime
    meter_start_wh: float
    vehicle: Vehicle
    tag_type: str = "ISO14443"
    transaction_id: int | str | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    seq_no: int = 0
    # An ISO 15118 car talks to the charger: it states its needs and negotiates its schedule.
    iso15118: bool = False
    duration: float | None = None
    fault_after: float | None = None
    last_energy_wh: float = 0.0
    begun: bool = False  # the transaction was started (not just a car plugged in)
    stopped: bool = False
    stop_reason: str | None = None
    meter_stop_wh: float | None = None
    start_failed: bool = False
    task: asyncio.Task | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def energy_wh(self) -> float:
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.last_energy_wh
        return max(0.0, end - self.meter_start_wh)


@dataclass
class Connector:
    id: int
    meter: Meter
    operative: bool = True
    pending_inoperative: bool = False
    error_code: str | None = None
    session: Session | None = None
    reservation: Reservation | None = None
    phase: str | None = None  # one of CHARGING_PHASES while a car is plugged in
    reported: tuple | None = None

    @property
    def state(self) -> str:
        """The OCPP 1.6 status; 2.0.1 folds the charging phases into Occupied."""
        if self.error_code:
            return "Faulted"
        if self.phase:
            return self.phase
        if not self.operative:
            return "Unavailable"
        if self.reservation:
            return "Reserved"
        return "Available"


@dataclass
class Outgoing:
    action: str
    build: Callable[[], object | None]
    persistent: bool
    future: asyncio.Future
    on_result: Callable[[object], None] | None = None
    on_fail: Callable[[], None] | None = None
    attempts: int = 0


def _resolve(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def describe(error: BaseException) -> str:
    if isinstance(error, OCPPError):
        return f"{error.code}: {error.description}"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


def next_firmware_version(location: str, current: str) -> str:
    """The version in the firmware file's name (fw-2.1.0.bin), else the current one bumped."""
    name = urlsplit(location).path.rsplit("/", 1)[-1]
    found = re.search(r"\d+(?:\.\d+){1,3}", name)
    if found and found.group(0) != current:
        return found.group(0)
    parts = current.split(".")
    if parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return current + ".1"


class _Link:
    """One WebSocket as the library's ChargePoint sees it, with the charger's silence applied."""

    def __init__(self, charger: SimulatedCharger, ws):
        self.charger = charger
        self.ws = ws
        self.cp = None
        self.inflight: set[asyncio.Future] = set()
        self.open = True

    async def send(self, message: str) -> None:
        if not self.charger.silent:
            await self.ws.send(message)

    async def recv(self) -> str:
        while True:
            message = await self.ws.recv()
            # A silent charger ignores commands (CALLs, type 2); answers to calls it made
            # before falling silent still arrive, so they do not time out later.
            if not (self.charger.silent and message.lstrip().startswith("[2")):
                return message


class SimulatedCharger:
    """One charger. Subclasses: `Charger16` (OCPP 1.6) and `Charger201` (OCPP 2.0.1)."""

    version = ""
    calls = None  # the version's ocpp `call` module
    results = None  # and its `call_result` module
    routed_cp = None  # the library's ChargePoint, routing commands to this charger
    # What a change of a setting (a 1.6 key, a 2.0.1 Component.Variable) does to the charger.
    settings: dict[str, str] = {}
    # 1.6 chargers report Installed before rebooting; 2.0.1 reports InstallRebooting, reboots,
    # and reports Installed after the new firmware booted.
    installed_before_reboot = True

    @classmethod
    def create(cls, config: ChargerConfig, **kwargs) -> SimulatedCharger:
        """The charger class for config.version."""
        from chargers.simulator.v16 import Charger16
        from chargers.simulator.v201 import Charger201

        kind = {"1.6": Charger16, "2.0.1": Charger201}[config.version]
        return kind(config, **kwargs)

    def __init__(
        self,
        config: ChargerConfig,
        *,
        reporter: Callable[[Event], None] | None = None,
        stats: Stats | None = None,
        rate_limiter=None,
    ):
        self.config = config
        self.id = config.charger_id
        self.password = config.password
        # A simulation, not a secret: seeded so a run can be repeated exactly.
        self.rng = random.Random(f"{config.seed}:{config.charger_id}")  # noqa: S311
        self.reporter = reporter
        self.stats = stats if stats is not None else Stats()
        self.rate_limiter = rate_limiter
        self.events: deque[Event] = deque(maxlen=1000)
        self.firmware_version = config.firmware_version
        self.connectors = {
            n: Connector(
                n,
                Meter(
                    self.rng,
                    max_power_w=config.max_power_w,
                    register_wh=float(self.rng.randrange(100_000, 5_000_000)),
                ),
            )
            for n in range(1, config.connectors + 1)
        }
        self.station_operative = True
        self.limits = Limits()
        self.local_list_version = 0
        self.local_list: dict[str, str] = {}
        self.registration: str | None = None
        self.boot_reason = "PowerUp"
        self.heartbeat_interval = float(config.heartbeat_interval or 0)
        self.meter_interval = float(config.meter_interval)
        self.message_attempts = config.message_attempts
        self.message_retry_interval = config.message_retry_interval
        self.ping_interval = config.ping_interval
        self.firmware_status = "Idle"
        self.firmware_request_id: int | None = None
        self.upload_status = "Idle"
        self.upload_request_id: int | None = None
        # 1.6 uploads for GetDiagnostics report with DiagnosticsStatusNotification, for the
        # security extension's GetLog with LogStatusNotification.
        self.upload_kind = "log"
        # 1.6 SignedUpdateFirmware reports with SignedFirmwareStatusNotification.
        self.firmware_signed = False
        self.certificates = Certificates(self.id)
        # Security events that happened while the charger was down, sent once it booted.
        self._security_after_boot: list[tuple[str, str]] = []
        self._outbox: deque[Outgoing] = deque()
        self._link: _Link | None = None
        self._changed = asyncio.Event()
        self._heartbeat_kick = asyncio.Event()
        self._boot_kick = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._follow_ups: dict[str, Callable[[], Awaitable]] = {}
        self._current_call: str | None = None
        self._boot_retry: float | None = None
        self._silent_until = 0.0
        self._stopping = False
        self._closing = False  # stop() began: no new sessions
        self._reboot_reason: str | None = None
        self._rebooting = False
        self._reset_when_idle: tuple[str, str] | None = None
        self._new_firmware: str | None = None
        self._firmware_after_boot: str | None = None
        self._session_numbers = itertools.count(1)
        self._backoff_attempt = 0
        self._run_task: asyncio.Task | None = None
        self.store = self._make_store()

    # --- state the tests and the fleet look at -------------------------------------------

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.open

    @property
    def online(self) -> bool:
        """Connected and registered: what OCPP calls online."""
        return self.connected and self.registration == "Accepted"

    @property
    def silent(self) -> bool:
        return time.monotonic() < self._silent_until

    @property
    def sessions(self) -> list[Session]:
        return [c.session for c in self.connectors.values() if c.session and not c.session.stopped]

    @property
    def queued(self) -> int:
        return len(self._outbox)

    async def wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until predicate() holds (re-checked on every state change); False on timeout."""
        return await self._wait_for(predicate, seconds)

    # --- version hooks ---------------------------------------------------------------------

    def _make_store(self):
        raise NotImplementedError

    def _make_cp(self, link: _Link):
        cp = self.routed_cp(self.id, link, response_timeout=self.config.response_timeout)
        cp.sim = self
        return cp

    def _boot_payload(self):
        raise NotImplementedError

    def _heartbeat_payload(self):
        raise NotImplementedError

    def _status_name(self, connector: Connector) -> str:
        raise NotImplementedError

    def _status_payload(self, connector: Connector, status: str):
        raise NotImplementedError

    def _report_station(self, force: bool = False) -> None:
        """1.6 reports connector 0 as well; 2.0.1 has no such thing."""

    def _authorize_payload(self, session: Session):
        raise NotImplementedError

    def _begin_transaction(self, session: Session, reading: Reading) -> asyncio.Future:
        raise NotImplementedError

    def _meter_sample(self, connector: Connector, reading: Reading, context: str):
        raise NotImplementedError

    def _end_transaction(self, session: Session, reading: Reading, reason: str):
        raise NotImplementedError

    def _fault_notice(self, connector: Connector, error_code: str, active: bool) -> None:
        """2.0.1 reports problems with NotifyEvent as well; 1.6 only has StatusNotification."""

    def _fault_stop_reason(self, error_code: str) -> str:
        return "Other"

    def _car_plugged(self, session: Session) -> None:
        """An ISO 15118 car was plugged in (2.0.1: Plug & Charge certificate messages)."""

    def _car_charging(self, session: Session) -> None:
        """An ISO 15118 car's transaction began (2.0.1: NotifyEVChargingNeeds)."""

    def _reservation_ended(self, reservation: Reservation, why: str) -> None:
        """2.0.1 tells the CSMS with ReservationStatusUpdate; 1.6 only with the status."""

    def _firmware_payload(self, status: str, signed: bool):
        raise NotImplementedError

    def _upload_payload(self, outcome: str, kind: str):
        """outcome: Idle, Uploading, Uploaded or Failed; kind: log or diagnostics."""
        status = outcome if outcome in ("Idle", "Uploading", "Uploaded") else "UploadFailure"
        return self.calls.LogStatusNotification(status=status, request_id=self.upload_request_id)

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        raise NotImplementedError

    def _setting_changed(self, name: str, value: str) -> None:
        """The store accepted a new value for `name`: what it controls changes at once."""
        what = self.settings.get(name)
        if what == "heartbeat_interval":
            self._set_heartbeat_interval(int(value))
        elif what == "meter_interval":
            self.meter_interval = float(value)
        elif what == "message_attempts":
            self.message_attempts = int(value)
        elif what == "message_retry_interval":
            self.message_retry_interval = float(value)
        elif what == "ping_interval":
            self.ping_interval = float(value) or None
        elif what == "password":
            # Security profiles 1 and 2: the Basic auth password from the next connection on.
            self.password = value
            self._event("password", f"{name} changed; used from the next connection")

    # --- reporting ---------------------------------------------------------------------------

    def _event(self, kind: str, text: str) -> None:
        event = Event(now_utc(), self.id, kind, text)
        self.events.append(event)
        if self.reporter is not None:
            self.reporter(event)

    def _notify(self) -> None:
        self._changed.set()

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if not isinstance(error, Offline):
                self._event("error", f"{task.get_coro().__qualname__}: {error!r}")

    async def _wait_for(self, predicate: Callable[[], bool], seconds: float | None = None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while not predicate():
            self._changed.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    # --- the connection ------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, boot and live until stop(): reconnect, reboot, run sessions."""
        if self._run_task is not None:
            raise RuntimeError(f"{self.id} is running already")
        self._run_task = asyncio.current_task()
        self._stopping = self._closing = False
        self._spawn(self._sender())
        if self.config.session_interval > 0:
            for connector in self.connectors.values():
                self._spawn(self._usage(connector))
        if self.config.incident_interval > 0:
            self._spawn(self._incidents())
        try:
            while not self._stopping:
                if self._reboot_reason is not None:
                    await self._reboot_pause()
                    continue
                await self._connect_once()
                if self._stopping or self._reboot_reason is not None:
                    continue
                await self._backoff_pause()
        finally:
            self._run_task = None
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self, *, graceful: bool = True, within: float | None = None) -> None:
        """End run(). Graceful: stop sessions and deliver what is queued first (bounded)."""
        timeout = self.config.response_timeout if within is None else within
        self._closing = True
        if graceful and self.online:
            for session in self.sessions:
                self._finish_session(session, "Local")
            await self._wait_for(lambda: not self._outbox or not self._can_send(), timeout)
        self._stopping = True
        self._notify()
        await self._close_link()
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=timeout)
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=timeout)

    def _credentials(self) -> dict[str, str]:
        if self.password is None:
            return {}
        token = base64.b64encode(f"{self.id}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}

    async def _connect_once(self) -> None:
        if self.rate_limiter is not None:
            await self.rate_limiter.wait()
        if self._stopping:
            return
        try:
            ws = await connect(
                self.config.endpoint,
                subprotocols=[self.config.subprotocol],
                additional_headers=self._credentials(),
                open_timeout=self.config.open_timeout,
                ping_interval=self.ping_interval or None,
                ping_timeout=self.ping_interval or None,
                close_timeout=2,
                proxy=None,
                user_agent_header=f"{self.config.vendor}/{self.firmware_version}",
            )
        except InvalidStatus as error:
            self.stats.add("refused")
            self._event("refused", f"HTTP {error.response.status_code} on the upgrade")
            return
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            self.stats.add("connect_failures")
            self._event("connect-failed", describe(error))
            return
        if self._stopping or self._reboot_reason is not None:
            # stop() or a reboot came while the handshake was in flight.
            await ws.close()
            return
        if ws.subprotocol != self.config.subprotocol:
            self.stats.add("refused")
            self._event("refused", f"the CSMS did not agree to {self.config.subprotocol}")
            await ws.close()
            return
        link = _Link(self, ws)
        link.cp = self._make_cp(link)
        self._link = link
        self.stats.add("connects")
        self._notify()
        reader = asyncio.get_running_loop().create_task(link.cp.start())
        lifecycle = self._spawn(self._lifecycle(link))
        why = "connection closed"
        try:
            await reader
        except ConnectionClosed as error:
            why = f"connection closed ({error.rcvd.code if error.rcvd else 'no close frame'})"
        except Exception as error:  # a bug in a handler must not end the charger's life
            why = f"reader failed: {error!r}"
        finally:
            link.open = False
            if self._link is link:
                self._link = None
            for call in list(link.inflight):
                call.cancel()
            self._drop_volatile()
            lifecycle.cancel()
            reader.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            self._notify()
        self.stats.add("disconnects")
        if not self._stopping and self._reboot_reason is None:
            self._event("disconnected", f"{why}; {self.queued} message(s) queued")

    async def _close_link(self) -> None:
        link = self._link
        if link is not None:
            with contextlib.suppress(Exception):
                await link.ws.close()

    async def _backoff_pause(self) -> None:
        self._backoff_attempt = min(self._backoff_attempt + 1, 30)
        ceiling = min(
            self.config.reconnect_max, self.config.reconnect_min * 2 ** (self._backoff_attempt - 1)
        )
        # Half fixed, half random: spreads a fleet's reconnects after a server restart.
        delay = self.rng.uniform(ceiling / 2, ceiling)
        await self._wait_for(lambda: self._stopping or self._reboot_reason is not None, delay)

    async def _reboot_pause(self) -> None:
        reason, self._reboot_reason = self._reboot_reason, None
        self._rebooting = True
        self.registration = None
        self.boot_reason = reason
        for connector in self.connectors.values():
            connector.error_code = None
            connector.phase = None
            connector.reported = None
            if connector.reservation is not None:
                self._drop_reservation(connector.reservation)
        if self._new_firmware:
            self.firmware_version, self._new_firmware = self._new_firmware, None
        await self._wait_for(lambda: self._stopping, self.config.reboot_seconds)
        self._rebooting = False
        self._notify()

    async def _lifecycle(self, link: _Link) -> None:
        try:
            if self.registration != "Accepted" or self.config.boot_on_reconnect:
                await self._boot_until_accepted()
            else:
                self._event("connected", "reconnected; still registered, so no BootNotification")
            self._backoff_attempt = 0
            self._report_all()
            if self._firmware_after_boot:
                status, self._firmware_after_boot = self._firmware_after_boot, None
                self._spawn(self._send_firmware_status(status))
            events, self._security_after_boot = self._security_after_boot, []
            for kind, tech_info in events:
                self._spawn(self.security_event(kind, tech_info))
            await self._heartbeats(link)
        except Offline:
            return

    async def _boot_until_accepted(self) -> None:
        while True:
            try:
                status = await self.boot()
            except (TimeoutError, OCPPError) as error:
                self._event("boot-failed", describe(error))
                status = None
            if status == "Accepted":
                return
            self._boot_kick.clear()
            wait = self._boot_retry or self.config.boot_retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._boot_kick.wait(), wait)

    async def boot(self) -> str:
        """Send one BootNotification; returns the registration status."""
        result = await self._call(self._boot_payload(), registered=False)
        self.registration = result.status
        if result.status == "Accepted":
            if self.config.heartbeat_interval is None:
                self._set_heartbeat_interval(result.interval)
            self.stats.add("boots")
            self._event(
                "booted",
                f"Accepted (OCPP {self.version}, firmware {self.firmware_version}, "
                f"heartbeat every {self.heartbeat_interval:g} s)",
            )
        else:
            self._boot_retry = float(result.interval) or None
            retry = self._boot_retry or self.config.boot_retry_seconds
            self._event("boot-" + result.status.lower(), f"{result.status}; again in {retry:g} s")
        self._notify()
        return result.status

    def _set_heartbeat_interval(self, seconds: float) -> None:
        self.heartbeat_interval = float(seconds)
        self._heartbeat_kick.set()

    async def _heartbeats(self, link: _Link) -> None:
        while link.open:
            self._heartbeat_kick.clear()
            interval = self.heartbeat_interval if self.heartbeat_interval > 0 else None
            try:
                await asyncio.wait_for(self._heartbeat_kick.wait(), interval)
                continue  # a new interval: start counting again
            except TimeoutError:
                pass
            if not self.silent:
                await self.heartbeat()

    async def heartbeat(self) -> bool:
        try:
            await self._call(self._heartbeat_payload())
        except Offline:
            return False
        except (TimeoutError, OCPPError) as error:
            self._event("error", f"Heartbeat: {describe(error)}")
            return False
        return True

    def _can_send(self) -> bool:
        return self.online and not self.silent

    async def _call(self, payload, *, registered: bool = True):
        """One CALL on the current connection; Offline if there is none to use."""
        link = self._link
        if link is None or not link.open or self.silent:
            raise Offline
        if registered and self.registration != "Accepted":
            raise Offline
        started = time.monotonic()
        call = asyncio.ensure_future(
            link.cp.call(payload, suppress=False, skip_schema_validation=not self.config.validate)
        )
        link.inflight.add(call)
        try:
            result = await call
        except asyncio.CancelledError:
            # The connection dropped under a call in flight (not: we are being cancelled).
            if call.cancelled() and not _being_cancelled():
                raise Offline from None
            raise
        except ConnectionClosed:
            raise Offline from None
        except TimeoutError:
            self.stats.add("call_timeouts")
            raise
        except OCPPError:
            self.stats.add("call_errors")
            raise
        finally:
            link.inflight.discard(call)
        self.stats.record_call(time.monotonic() - started)
        return result

    # --- the outbox ----------------------------------------------------------------------

    def _enqueue(
        self,
        action: str,
        build: Callable[[], object | None],
        *,
        persistent: bool,
        on_result: Callable[[object], None] | None = None,
        on_fail: Callable[[], None] | None = None,
    ) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        if not persistent and not self._can_send():
            future.set_result(None)
            return future
        self._outbox.append(Outgoing(action, build, persistent, future, on_result, on_fail))
        self._notify()
        return future

    def _drop_volatile(self) -> None:
        """A lost connection loses what was not meant to survive it; statuses are resent."""
        for item in [item for item in self._outbox if not item.persistent]:
            self._discard(item)

    def _discard(self, item: Outgoing, result=None) -> None:
        with contextlib.suppress(ValueError):
            self._outbox.remove(item)
        _resolve(item.future, result)

    async def _sender(self) -> None:
        while True:
            await self._wait_for(lambda: bool(self._outbox) and self._can_send())
            item = self._outbox[0]
            payload = item.build()
            if payload is None:  # e.g. a 1.6 transaction whose StartTransaction was lost
                self._discard(item)
                continue
            try:
                result = await self._call(payload)
            except Offline:
                if not item.persistent:
                    self._discard(item)
                continue
            except (TimeoutError, OCPPError) as error:
                item.attempts += 1
                if item.persistent and item.attempts < max(1, self.message_attempts):
                    await asyncio.sleep(self.message_retry_interval * item.attempts)
                    continue
                self._discard(item)
                self.stats.add("messages_dropped")
                self._event(
                    "error", f"{item.action} given up after {item.attempts}: {describe(error)}"
                )
                if item.on_fail is not None:
                    item.on_fail()
                continue
            self._discard(item, result)
            if item.on_result is not None:
                try:
                    item.on_result(result)
                except Exception as error:  # a bad answer must not stop the outbox
                    self._event("error", f"handling the answer to {item.action}: {error!r}")
            self._notify()

    async def _settle(self, future: asyncio.Future | None):
        """Wait (bounded) for a queued message's answer while online; None if not there."""
        if future is None:
            return None
        if not future.done() and not self.online:
            return None
        limit = self.config.response_timeout * (1 + len(self._outbox))
        try:
            return await asyncio.wait_for(asyncio.shield(future), limit)
        except TimeoutError:
            return None

    # --- statuses ------------------------------------------------------------------------

    def _report_status(self, connector: Connector, *, force: bool = False) -> None:
        status = self._status_name(connector)
        key = (status, connector.error_code)
        if key == connector.reported and not force:
            return
        connector.reported = key
        payload = self._status_payload(connector, status)
        self._enqueue("StatusNotification", lambda: payload, persistent=False)

    def _report_all(self) -> None:
        self._report_station(force=True)
        for connector in self.connectors.values():
            self._report_status(connector, force=True)

    def _availability(self, evse_id: int, operative: bool, reply):
        """ChangeAvailability of the charger (evse_id 0) or one connector; the statuses that
        change are reported once the answer is out."""
        if evse_id == 0:
            targets = list(self.connectors.values())
        elif evse_id in self.connectors:
            targets = [self.connectors[evse_id]]
        else:
            return reply(status="Rejected")
        status = self._change_availability(targets, operative)
        if evse_id == 0:
            self.station_operative = operative

        async def report():
            if evse_id == 0:
                self._report_station()
            for connector in targets:
                self._report_status(connector)

        self.after_reply(report)
        return reply(status=status)

    def _change_availability(self, targets: list[Connector], operative: bool) -> str:
        scheduled = False
        for connector in targets:
            if operative:
                connector.operative, connector.pending_inoperative = True, False
            elif connector.session is not None:
                # A running session finishes first; then the connector becomes Unavailable.
                connector.pending_inoperative = scheduled = True
            else:
                connector.operative = False
                if connector.reservation is not None:
                    # A connector taken out of use cannot honour its reservation.
                    self._end_reservation(connector, "Removed")
        return "Scheduled" if scheduled else "Accepted"

    # --- sessions ------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _read(self, connector: Connector) -> Reading:
        now = self._now()
        return connector.meter.reading(now, self.limits.cap_w(connector.id, now))

    def _pick_connector(self, connector_id: int | None, id_tag: str | None) -> Connector | None:
        if self._rebooting or self._closing:
            return None
        if connector_id:
            candidates = [self.connectors.get(connector_id)]
        else:
            candidates = list(self.connectors.values())
        for connector in candidates:
            if connector is None:
                continue
            if connector.state == "Available":
                return connector
            if connector.state == "Reserved" and connector.reservation.id_tag == id_tag:
                return connector
        return None

    def _session_length(self) -> float | None:
        base = self.config.session_duration
        if base is None:
            base = self.config.session_interval
        return base * self.rng.uniform(0.8, 1.2) if base and base > 0 else None

    def _find_session(self, connector_id: int | None = None, transaction_id=None):
        for session in self.sessions:
            if connector_id is not None and session.connector_id != connector_id:
                continue
            if transaction_id is not None and str(session.transaction_id) != str(transaction_id):
                continue
            return session
        return None

    async def start_session(
        self,
        id_tag: str | None = None,
        connector_id: int | None = None,
        *,
        remote_start_id: int | None = None,
        authorize: bool = True,
        tag_type: str = "ISO14443",
        iso15118: bool = False,
    ) -> Session | None:
        """Plug in a car and start charging: Authorize (when online), then the transaction.

        An ISO 15118 car (iso15118) also talks to the charger: on 2.0.1 the station asks for
        its contract certificate and reports the car's charging needs.

        Returns the session once the CSMS answered the start (or at once when offline), or
        None when no connector is free or the id tag is refused.
        """
        id_tag = id_tag or self.rng.choice(self.config.id_tags)
        connector = self._pick_connector(connector_id, id_tag)
        if connector is None:
            self._event("session-refused", f"no free connector for {id_tag}")
            return None
        session = Session(
            connector_id=connector.id,
            id_tag=id_tag,
            number=next(self._session_numbers),
            started_at=now_utc(),
            meter_start_wh=round(connector.meter.register_wh, 1),
            vehicle=Vehicle.random(self.rng),
            tag_type=tag_type,
            remote_start_id=remote_start_id,
            iso15118=iso15118,
        )
        if connector.reservation is not None:
            session.reservation_id = connector.reservation.id
            self._drop_reservation(connector.reservation)
        connector.session, connector.phase = session, "Preparing"
        self._report_status(connector)
        if session.iso15118:
            self._car_plugged(session)
        if authorize and self.online:
            result = await self._settle(
                self._enqueue(
                    "Authorize", lambda: self._authorize_payload(session), persistent=False
                )
            )
            status = self._authorization_status(result)
            if session.stopped:  # a reset or stop() came while the CSMS was deciding
                return None
            if status not in (None, "Accepted"):
                connector.session, connector.phase = None, None
                self._report_status(connector)
                self._event("session-refused", f"{id_tag} not authorised: {status}")
                return None
        now = self._now()
        connector.meter.plug(session.vehicle, now)
        reading = connector.meter.reading(now, self.limits.cap_w(connector.id, now))
        session.started_at = now_utc()
        session.meter_start_wh = session.last_energy_wh = reading.energy_wh
        session.duration = self._session_length()
        if self.config.fault_rate and self.rng.random() < self.config.fault_rate:
            span = session.duration or 3 * max(self.meter_interval, 1.0)
            session.fault_after = span * self.rng.uniform(0.2, 0.8)
        connector.phase = "Charging"
        session.begun = True
        started = self._begin_transaction(session, reading)
        self._report_status(connector)
        if session.iso15118:
            self._car_charging(session)
        self.stats.add("sessions_started")
        session.task = self._spawn(self._charge(session))
        await self._settle(started)
        vehicle = session.vehicle
        self._event(
            "session-started",
            f"connector {connector.id}, tag {id_tag}, transaction "
            f"{session.transaction_id if session.transaction_id is not None else '(queued)'}, "
            f"car {vehicle.capacity_wh / 1000:.0f} kWh at {vehicle.soc_start:.0f} %",
        )
        return session

    def _authorization_status(self, result) -> str | None:
        raise NotImplementedError

    async def _charge(self, session: Session) -> None:
        """A session's life: meter samples every interval until it ends or a fault hits."""
        loop = asyncio.get_running_loop()
        begun = loop.time()
        connector = self.connectors[session.connector_id]
        next_sample = begun + self.meter_interval
        while not session.stopped:
            wake = []
            if self.meter_interval > 0:
                wake.append(next_sample)
            if session.duration is not None:
                wake.append(begun + session.duration)
            if session.fault_after is not None:
                wake.append(begun + session.fault_after)
            if wake:
                await asyncio.sleep(max(0.0, min(wake) - loop.time()))
            else:
                await session.ended.wait()
            if session.stopped:
                return
            now = loop.time()
            if session.fault_after is not None and now >= begun + session.fault_after:
                await self.fault(
                    self.rng.choice(FAULT_CODES),
                    connector.id,
                    clear_after=self.config.fault_duration,
                )
                return
            if session.duration is not None and now >= begun + session.duration:
                self._finish_session(session, "EVDisconnected")
                return
            if self.meter_interval > 0 and now >= next_sample:
                next_sample = now + self.meter_interval
                self._sample(connector, "Sample.Periodic")
                full = connector.meter.full
                if full and connector.phase == "Charging":
                    connector.phase = "SuspendedEV"
                    self._report_status(connector)

    def _sample(self, connector: Connector, context: str) -> asyncio.Future:
        reading = self._read(connector)
        if connector.session is not None:
            connector.session.last_energy_wh = reading.energy_wh
        return self._meter_sample(connector, reading, context)

    async def send_meter_values(
        self, connector_id: int | None = None, *, context: str = "Sample.Periodic"
    ):
        """Take a meter reading now and send it; returns the CSMS's answer (None offline)."""
        if connector_id is None:
            session = self._find_session()
            connector_id = session.connector_id if session else 1
        return await self._settle(self._sample(self.connectors[connector_id], context))

    def _charging(self, connector: Connector) -> Session | None:
        session = connector.session
        if session is None or session.stopped or connector.phase == "Preparing":
            return None
        return session

    async def stop_session(self, reason: str = "Local", connector_id: int | None = None):
        """End the session on connector_id (or the first one); returns it, or None."""
        session = self._find_session(connector_id)
        if session is None:
            return None
        await self._settle(self._finish_session(session, reason))
        return session

    def _finish_session(self, session: Session, reason: str) -> asyncio.Future | None:
        if session.stopped:
            return None
        session.stopped, session.stop_reason = True, reason
        if session.task is not None and session.task is not asyncio.current_task():
            session.task.cancel()
        connector = self.connectors[session.connector_id]
        if not session.begun:
            # Still authorising: no transaction to end, the car just leaves.
            connector.session, connector.phase = None, None
            self._report_status(connector)
            session.ended.set()
            return None
        reading = self._read(connector)
        connector.meter.unplug(self._now())
        session.meter_stop_wh = session.last_energy_wh = reading.energy_wh
        delivered = self._end_transaction(session, reading, reason)
        self.limits.end_transaction(connector.id)
        self.stats.add("sessions_stopped")
        self.stats.energy_wh += session.energy_wh
        connector.phase = "Finishing"
        self._report_status(connector)
        connector.session, connector.phase = None, None
        if connector.pending_inoperative:
            connector.operative, connector.pending_inoperative = False, False
        self._report_status(connector)
        session.ended.set()
        seconds = (now_utc() - session.started_at).total_seconds()
        took = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
        self._event(
            "session-stopped",
            f"connector {connector.id}, transaction {session.transaction_id}: "
            f"{session.energy_wh / 1000:.3f} kWh in {took}, reason {reason}",
        )
        if self._reset_when_idle and not self.sessions:
            boot_reason, stop_reason = self._reset_when_idle
            self._spawn(self.reboot(boot_reason, stop_reason))
        self._notify()
        return delivered

    async def _usage(self, connector: Connector) -> None:
        """Cars arrive on a cadence: an idle gap, a session, an idle gap, ..."""
        await self._wait_for(lambda: self.registration == "Accepted")
        # Start at a random point of the cycle, so a fleet does not charge in lockstep.
        await asyncio.sleep(self.rng.uniform(0, self.config.session_interval))
        while True:
            if connector.state == "Available" and not self._rebooting:
                share = self.config.iso15118_share
                session = await self.start_session(
                    connector_id=connector.id, iso15118=bool(share) and self.rng.random() < share
                )
                if session is not None:
                    await session.ended.wait()
            await asyncio.sleep(self.config.session_interval * self.rng.uniform(0.8, 1.2))

    # --- now and then ------------------------------------------------------------------------

    def _incident_kinds(self) -> list[Callable[[], Awaitable]]:
        """What a charger does on its own now and then, besides sessions."""
        return [
            lambda: self.security_event(
                self.rng.choice(ROUTINE_SECURITY_EVENTS), "noticed by the charger"
            ),
            lambda: self.data_transfer(
                "Counters",
                json.dumps({"firmware": self.firmware_version, "events": len(self.events)}),
            ),
            lambda: self.sign_certificate(),
        ]

    async def _incidents(self) -> None:
        await self._wait_for(lambda: self.online)
        while True:
            await asyncio.sleep(self.config.incident_interval * self.rng.uniform(0.5, 1.5))
            if self.online:
                await self.rng.choice(self._incident_kinds())()

    # --- faults and silence --------------------------------------------------------------

    async def fault(
        self, error_code: str = "GroundFailure", connector_id: int = 1, *, clear_after=None
    ) -> None:
        """The connector goes Faulted with error_code; a session on it ends."""
        connector = self.connectors[connector_id]
        connector.error_code = error_code
        self.stats.add("faults")
        self._event("fault", f"connector {connector_id}: {error_code}")
        self._report_status(connector)
        self._fault_notice(connector, error_code, True)
        if connector.session is not None:
            self._finish_session(connector.session, self._fault_stop_reason(error_code))
        if clear_after:
            asyncio.get_running_loop().call_later(
                clear_after, lambda: self._spawn(self.clear_fault(connector_id))
            )

    async def clear_fault(self, connector_id: int = 1) -> None:
        connector = self.connectors[connector_id]
        if connector.error_code is None:
            return
        connector.error_code = None
        self._event("fault-cleared", f"connector {connector_id}")
        self._report_status(connector)
        self._fault_notice(connector, "NoError", False)

    async def go_silent(self, seconds: float) -> None:
        """Send nothing for `seconds`: no heartbeats, no answers, no queued messages.

        Commands from the CSMS are ignored meanwhile; the WebSocket itself stays open (its
        pings are answered), so the CSMS has to notice the missing heartbeats.
        """
        self._silent_until = time.monotonic() + seconds
        self._event("silent", f"sending nothing for {seconds:g} s")
        asyncio.get_running_loop().call_later(seconds, self._silence_over)

    def _silence_over(self) -> None:
        if not self.silent:
            self._event("talking", "silence over")
            self._heartbeat_kick.set()
            self._notify()

    # --- reboots, reservations, firmware, uploads -------------------------------------------

    async def reboot(self, boot_reason: str = "RemoteReset", stop_reason: str = "HardReset"):
        """Stop sessions, deliver what can be delivered, disconnect, wait, boot again."""
        if self._rebooting or self._reboot_reason is not None:
            return
        self._rebooting = True
        self._reset_when_idle = None
        self._event("rebooting", boot_reason)
        if boot_reason == "RemoteReset":
            self._security_after_boot.append(("ResetOrReboot", "reset by the CSMS"))
        for session in self.sessions:
            self._finish_session(session, stop_reason)
        if self.online:
            await self._wait_for(
                lambda: not self._outbox or not self._can_send(), self.config.response_timeout
            )
        self._reboot_reason = boot_reason
        self._notify()
        await self._close_link()

    def _reserve(
        self, reservation_id: int, connector_id: int | None, id_tag: str, expires_at: datetime
    ) -> tuple[str, Connector | None]:
        for connector in self.connectors.values():
            if connector.reservation and connector.reservation.id == reservation_id:
                self._drop_reservation(connector.reservation)
        if connector_id:
            connector = self.connectors.get(connector_id)
            if connector is None:
                return "Rejected", None
        else:
            free = [c for c in self.connectors.values() if c.state == "Available"]
            connector = free[0] if free else next(iter(self.connectors.values()))
        state = connector.state
        if state in ("Faulted", "Unavailable"):
            return state, None
        if state != "Available":
            return "Occupied", None
        delay = (expires_at - now_utc()).total_seconds()
        if delay <= 0:
            return "Rejected", None
        reservation = Reservation(reservation_id, connector.id, id_tag, expires_at)
        reservation.timer = asyncio.get_running_loop().call_later(delay, self.expire_reservations)
        connector.reservation = reservation
        return "Accepted", connector

    def _drop_reservation(self, reservation: Reservation) -> None:
        if reservation.timer is not None:
            reservation.timer.cancel()
        connector = self.connectors[reservation.connector_id]
        if connector.reservation is reservation:
            connector.reservation = None

    def expire_reservations(self, now: datetime | None = None) -> int:
        """End every reservation whose expiry has come by `now` (the charger's clock when not
        given), as the charger does at each one's expiry; returns how many ended."""
        now = now or now_utc()
        expired = 0
        for connector in self.connectors.values():
            reservation = connector.reservation
            if reservation is not None and reservation.expires_at <= now:
                self._end_reservation(connector, "Expired")
                self._report_status(connector)
                expired += 1
        return expired

    def _end_reservation(self, connector: Connector, why: str) -> None:
        """The charger ends a reservation itself (it expired, or its connector can no longer
        be used) and says so (2.0.1: ReservationStatusUpdate); the caller reports the status."""
        reservation = connector.reservation
        self._drop_reservation(reservation)
        self._event("reservation", f"{reservation.id} {why.lower()}")
        self._reservation_ended(reservation, why)

    def on_cancel_reservation(self, reservation_id, **_):
        for connector in self.connectors.values():
            if connector.reservation and connector.reservation.id == reservation_id:
                self._drop_reservation(connector.reservation)
                self.after_reply(self._async(lambda c=connector: self._report_status(c)))
                return self.results.CancelReservation(status="Accepted")
        return self.results.CancelReservation(status="Rejected")

    def _update_local_list(self, version: int, update_type: str, entries) -> str:
        """entries: (id tag, status or None to remove). Accepted, VersionMismatch or Failed."""
        if update_type == "Full":
            self.local_list = {}
        elif version <= self.local_list_version:
            return "VersionMismatch"
        for tag, status in entries:
            if status is None:
                self.local_list.pop(tag, None)
            else:
                self.local_list[tag] = status
        self.local_list_version = version
        return "Accepted"

    async def _send_firmware_status(self, status: str, *, signed: bool | None = None) -> None:
        self.firmware_status = status
        self._event("firmware", status)
        payload = self._firmware_payload(status, self.firmware_signed if signed is None else signed)
        await self._settle(self._enqueue(type(payload).__name__, lambda: payload, persistent=False))

    async def update_firmware(
        self,
        location: str,
        retrieve_at: datetime | None = None,
        request_id: int | None = None,
        *,
        signed: bool = False,
    ) -> None:
        """Download, install and reboot into the new version (or fail, at the failure rate).

        A signed update checks the signature after the download and reports SignatureVerified
        (or InvalidSignature, as one of the failures).
        """
        if retrieve_at is not None:
            delay = (retrieve_at - now_utc()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
        self.firmware_request_id = request_id
        self.firmware_signed = signed
        step = self.config.firmware_step_seconds
        failure = None
        if self.rng.random() < self.config.firmware_failure_rate:
            failures = ("DownloadFailed", "InstallationFailed")
            failure = self.rng.choice((*failures, "InvalidSignature") if signed else failures)
        await self._send_firmware_status("Downloading")
        await asyncio.sleep(step)
        if failure == "DownloadFailed":
            await self._send_firmware_status(failure)
            return
        await self._send_firmware_status("Downloaded")
        await asyncio.sleep(step)
        if signed:
            if failure == "InvalidSignature":
                await self._send_firmware_status(failure)
                return
            await self._send_firmware_status("SignatureVerified")
        await self._send_firmware_status("Installing")
        await asyncio.sleep(step)
        if failure == "InstallationFailed":
            await self._send_firmware_status(failure)
            return
        self._new_firmware = next_firmware_version(location, self.firmware_version)
        self._security_after_boot.append(("FirmwareUpdated", f"firmware {self._new_firmware}"))
        if self.installed_before_reboot and not signed:
            await self._send_firmware_status("Installed")
        else:
            await self._send_firmware_status("InstallRebooting")
            self._firmware_after_boot = "Installed"
        await self.reboot("FirmwareUpdate", "Reboot")

    def _diagnostics(self) -> bytes:
        lines = [
            f"charger {self.id} ({self.config.vendor} {self.config.model})",
            f"firmware {self.firmware_version}, OCPP {self.version}",
            f"written {iso()}",
            "",
            *(event.line() for event in self.events),
        ]
        return ("\n".join(lines) + "\n").encode()

    async def upload_diagnostics(
        self, location: str, filename: str, request_id: int | None = None, *, kind: str = "log"
    ) -> bool:
        """Upload the log to `location`, reporting Uploading, then Uploaded or the failure."""
        self.upload_request_id, self.upload_kind = request_id, kind
        await self._send_upload_status("Uploading")
        ok = await asyncio.to_thread(
            uploads.upload, location, filename, self._diagnostics(), self.config.upload_timeout
        )
        await self._send_upload_status("Uploaded" if ok else "Failed")
        return ok

    async def _send_upload_status(self, outcome: str, *, kind: str | None = None) -> None:
        self.upload_status = outcome
        self._event("upload", outcome)
        payload = self._upload_payload(outcome, kind or self.upload_kind)
        await self._settle(self._enqueue(type(payload).__name__, lambda: payload, persistent=False))

    # --- messages either version sends on request ------------------------------------------

    async def security_event(self, kind: str, tech_info: str | None = None):
        """Report a security event; kept while offline, as the security whitepaper asks."""
        self._event("security", f"{kind}{f' ({tech_info})' if tech_info else ''}")
        payload = self.calls.SecurityEventNotification(
            type=kind, timestamp=iso(), tech_info=tech_info[:255] if tech_info else None
        )
        return await self._settle(
            self._enqueue("SecurityEventNotification", lambda: payload, persistent=True)
        )

    async def data_transfer(
        self, message_id: str | None = None, data: str | None = None, vendor_id: str | None = None
    ) -> str | None:
        """A vendor-specific message; returns the CSMS's status (None when offline)."""
        payload = self.calls.DataTransfer(
            vendor_id=vendor_id or self.config.vendor, message_id=message_id, data=data
        )
        result = await self._settle(
            self._enqueue("DataTransfer", lambda: payload, persistent=False)
        )
        status = None if result is None else result.status
        self._event("data-transfer", f"{message_id or '-'}: {status}")
        return status

    async def sign_certificate(self, certificate_type: str | None = None) -> str | None:
        """Ask the CSMS to have a new certificate signed; returns its status."""
        csr = self.certificates.csr(certificate_type or "ChargingStationCertificate")
        payload = self._sign_certificate_payload(csr, certificate_type)
        result = await self._settle(
            self._enqueue("SignCertificate", lambda: payload, persistent=False)
        )
        status = None if result is None else result.status
        self._event("certificate", f"signing request: {status}")
        return status

    @staticmethod
    def _idle_unless_busy(status: str) -> str:
        busy = ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Uploading")
        return status if status in busy else "Idle"

    @staticmethod
    def _async(function):
        async def job():
            function()

        return job

    def _trigger(self, jobs: dict, requested_message: str, reply):
        """Answer a trigger with `reply` and send the message once the answer is out."""
        job = jobs.get(requested_message)
        if job is None:
            return reply(status="NotImplemented")
        self.after_reply(job)
        return reply(status="Accepted")

    async def _triggered_boot(self):
        try:
            await self.boot()
        except Offline:
            self._boot_kick.set()

    def _report_after_reply(self, action: str, items: list, build) -> None:
        """Once the answer is out, send `items` in parts; build(seq_no, part, tbc)."""
        self.after_reply(lambda: self._send_parts(action, items, build))

    async def _send_parts(self, action: str, items: list, build) -> None:
        parts = [items[i : i + REPORT_PART] for i in range(0, len(items), REPORT_PART)] or [[]]
        futures = []
        for seq_no, part in enumerate(parts):
            payload = build(seq_no, part, seq_no < len(parts) - 1)
            futures.append(self._enqueue(action, lambda p=payload: p, persistent=False))
        await asyncio.gather(*(self._settle(f) for f in futures))

    def _install_profile(self, data: dict, evse_id: int) -> None:
        profile = parse_profile(data, evse_id, now=self._now(), wall=now_utc())
        self.limits.install(profile)
        cap = self.limits.cap_w(evse_id or 1, self._now())
        self._event("limit", f"profile {profile.id} on connector {evse_id}: cap {cap} W")

    def _clear_profiles(self, **criteria) -> str:
        return "Accepted" if self.limits.clear(**criteria) else "Unknown"

    def _composite_limit(self, evse_id: int, unit: str) -> float:
        """The limit in force on evse_id (0: the charger) in W or A, as a schedule states it."""
        cap = self.limits.cap_w(evse_id or 1, self._now())
        limit_w = self.config.max_power_w if cap is None else cap
        return round(limit_w if unit == "W" else limit_w / (NOMINAL_VOLTAGE * PHASES), 1)

    def _refuses_signing_certificate(self, certificate: str | None) -> bool:
        """A firmware signing certificate that is no certificate: refused, and reported."""
        if certificate is None or certificate.lstrip().startswith(PEM_CERTIFICATE):
            return False
        self.after_reply(
            lambda: self.security_event(
                "InvalidFirmwareSigningCertificate", "the signing certificate is not a PEM"
            )
        )
        return True

    # --- commands both versions answer alike ----------------------------------------------

    def on_get_log(self, log, log_type, request_id, **_):
        filename = f"{log_type.lower()}-{self.id}-{now_utc():%Y%m%dT%H%M%SZ}.txt"
        location = log["remote_location"]
        self.after_reply(lambda: self.upload_diagnostics(location, filename, request_id))
        return self.results.GetLog(status="Accepted", filename=filename)

    def on_clear_cache(self, **_):
        return self.results.ClearCache(status="Accepted")

    def on_data_transfer(self, vendor_id, message_id=None, data=None, **_):
        if vendor_id != self.config.vendor:
            return self.results.DataTransfer(status="UnknownVendorId")
        return self.results.DataTransfer(status="Accepted", data=data)

    def on_install_certificate(self, certificate_type, certificate, **_):
        status = self.certificates.install(certificate_type, certificate)
        self._event("certificate", f"{certificate_type} install: {status}")
        return self.results.InstallCertificate(status=status)

    def on_delete_certificate(self, certificate_hash_data, **_):
        status = self.certificates.delete(certificate_hash_data)
        return self.results.DeleteCertificate(status=status)

    def on_certificate_signed(self, certificate_chain, certificate_type=None, **_):
        kind = certificate_type or "ChargingStationCertificate"
        status = self.certificates.signed(certificate_chain, kind)
        self._event("certificate", f"{kind} signed: {status}")
        if status == "Rejected":
            self.after_reply(
                lambda: self.security_event("InvalidChargingStationCertificate", "not a PEM chain")
            )
        return self.results.CertificateSigned(status=status)

    # --- commands from the CSMS -----------------------------------------------------------

    async def handle_call(self, action, method: str, call_id: str, payload: dict):
        """Run the charger's on_<method> for a CSMS call; called by the routed ChargePoint."""
        self.stats.add("commands")
        self._event("command", f"{action} {self._brief(payload)}".rstrip())
        self._current_call = call_id
        try:
            result = getattr(self, f"on_{method}")(**payload)
            if inspect.isawaitable(result):
                result = await result
        except BaseException:
            self._follow_ups.pop(call_id, None)
            raise
        finally:
            self._current_call = None
        return result

    def after_reply(self, job: Callable[[], Awaitable]) -> None:
        """Run job() once the reply to the call being handled has been sent."""
        self._follow_ups[self._current_call] = job

    def run_follow_up(self, call_id: str) -> None:
        job = self._follow_ups.pop(call_id, None)
        if job is not None:
            self._spawn(job())

    @staticmethod
    def _brief(payload: dict) -> str:
        text = ", ".join(f"{k}={v}" for k, v in payload.items())
        if any(secret in text.lower() for secret in SECRET_NAMES):
            # Never print a password the CSMS is setting.
            text = re.sub(r"('?(?:attribute_)?value'?[=:] ?)'?[^,'}]*'?", r"\1***", text)
        return text if len(text) <= 120 else text[:117] + "..."

    def _measurands(self, setting: str) -> list[str]:
        configured = [m.strip() for m in setting.split(",") if m.strip()]
        return [m for m in MEASURANDS if m in configured]

    @staticmethod
    def _samples(reading: Reading, measurands: list[str]) -> list[tuple]:
        """(measurand, value, phase, unit, location) for each value the reading reports."""
        out = []
        for measurand in measurands:
            if measurand == "Energy.Active.Import.Register":
                out.append((measurand, reading.energy_wh, None, "Wh", "Outlet"))
            elif measurand == "Power.Active.Import":
                out.append((measurand, reading.power_w, None, "W", "Outlet"))
            elif measurand == "Current.Import":
                for phase, amps in zip(("L1", "L2", "L3"), reading.currents_a, strict=True):
                    out.append((measurand, amps, phase, "A", "Outlet"))
            elif measurand == "Voltage":
                for phase, volts in zip(("L1", "L2", "L3"), reading.voltages_v, strict=True):
                    out.append((measurand, volts, phase, "V", "Outlet"))
            elif measurand == "SoC" and reading.soc is not None:
                out.append((measurand, reading.soc, None, "Percent", "EV"))
        return out
