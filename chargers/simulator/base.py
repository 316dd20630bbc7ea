"""A simulated charger, whatever its OCPP version: what it is made of and how it runs.

`SimulatedCharger` holds the parts together; each part is one thing a charger does:

- `connection`: the WebSocket, Basic auth on the upgrade, reconnects with back-off, silence;
- `registration`: BootNotification until accepted, then heartbeats;
- `outbox`: messages leave in order, one CALL at a time; transaction messages survive offline;
- `connectors`: statuses, availability, faults and reservations;
- `sessions`: cars arriving, charging with meter samples, leaving;
- `firmware`, `reboots`, `uploads`: what the operator asks for besides charging;
- `commands`: the CSMS's commands and what follows their answers.

`v16.py` and `v201.py` subclass it: they translate the version's messages (the hooks of
hooks.py) and answer the version's commands by delegating to the parts; common_commands.py
has the commands both versions answer alike.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from datetime import datetime

from chargers import credentials
from chargers.simulator.certificates import Certificates
from chargers.simulator.commands import Commands
from chargers.simulator.common_commands import CommonCommands
from chargers.simulator.config import ChargerConfig
from chargers.simulator.connection import Connection, Link
from chargers.simulator.connectors import Connectors
from chargers.simulator.events import Event, EventLog, Stats, iso
from chargers.simulator.firmware import Firmware
from chargers.simulator.hooks import VersionHooks
from chargers.simulator.ledger import Ledger
from chargers.simulator.limits import Limits
from chargers.simulator.maintenance import Reboots, Uploads
from chargers.simulator.outbox import Outbox
from chargers.simulator.registration import Registration
from chargers.simulator.sessions import Sessions
from chargers.simulator.state import LocalList, Offline, Session

# Security events a charger reports in passing (the critical ones raise alerts; these do not).
ROUTINE_SECURITY_EVENTS = (
    "FailedToAuthenticateAtCsms",
    "InvalidCsmsCertificate",
    "InvalidTLSVersion",
    "ReconfigurationOfSecurityParameters",
)


class SimulatedCharger(CommonCommands, VersionHooks):
    """One charger. Subclasses: `Charger16` (OCPP 1.6) and `Charger201` (OCPP 2.0.1)."""

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
        ledger: Ledger | None = None,
    ):
        self.config = config
        # Where the CSMS's answers to transaction messages are kept, when a test keeps them.
        self.ledger = ledger
        self.id = config.charger_id
        # A simulation, not a secret: seeded, so a run's cars, session lengths and faults can
        # be repeated. What must be new in every run (2.0.1 transaction ids) is not drawn
        # from it.
        self.rng = random.Random(f"{config.seed}:{config.charger_id}")  # noqa: S311
        self.stats = stats if stats is not None else Stats()
        self.events = EventLog(self.id, reporter)
        self.certificates = Certificates(self.id)
        self.limits = Limits()
        self.local_list = LocalList(config.local_list_max, config.local_list_per_message)
        self.connectors = Connectors(self)
        self.sessions = Sessions(self)
        self.connection = Connection(self, rate_limiter)
        self.registration = Registration(self)
        self.outbox = Outbox(self)
        self.commands = Commands(self)
        self.firmware = Firmware(self)
        self.reboots = Reboots(self)
        self.uploads = Uploads(self)
        # What the CSMS had the screen show, kept for tests past the session: the driver's
        # price (personal messages), every running cost, each transaction's final cost.
        self.shown: list[str] = []
        self.running_costs: list[tuple[str, float]] = []
        self.final_costs: dict[str, float] = {}
        self.stopping = False
        self.closing = False  # stop() began: no new sessions
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._run_task: asyncio.Task | None = None
        self.store = self._make_store()

    # --- state the tests and the fleet look at -------------------------------------------

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def online(self) -> bool:
        """Connected and registered: what OCPP calls online."""
        return self.connection.connected and self.registration.accepted

    @property
    def queued(self) -> int:
        return len(self.outbox)

    @property
    def firmware_version(self) -> str:
        return self.firmware.version

    @property
    def password(self) -> str | None:
        return self.connection.password

    @property
    def heartbeat_interval(self) -> float:
        return self.registration.heartbeat_interval

    @property
    def meter_interval(self) -> float:
        return self.sessions.meter_interval

    async def wait_until(self, predicate: Callable[[], bool], seconds: float | None = None) -> bool:
        """Wait until predicate() holds (re-checked on every state change); False on timeout."""
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

    # --- for the parts -------------------------------------------------------------------

    def notify(self) -> None:
        """Something changed: whoever waits in wait_until() checks again."""
        self._changed.set()

    def spawn(self, coroutine) -> asyncio.Task:
        """Run coroutine as the charger's task: cancelled when run() ends, errors reported."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if not isinstance(error, Offline):
                name = getattr(task.get_coro(), "__qualname__", task.get_name())
                self.events.add("error", f"{name}: {error!r}")

    def can_send(self) -> bool:
        return self.online and not self.connection.silent

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    @property
    def winding_down(self) -> bool:
        """stop() or a reboot came: the connection is to end and not be made again now."""
        return self.stopping or self.reboots.pending is not None

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, boot and live until stop(): reconnect, reboot, run sessions."""
        if self._run_task is not None:
            raise RuntimeError(f"{self.id} is running already")
        self._run_task = asyncio.current_task()
        self.stopping = self.closing = False
        self.spawn(self.outbox.run())
        if self.config.session_interval > 0:
            for connector in self.connectors.values():
                self.spawn(self.sessions.arrivals(connector))
        if self.config.incident_interval > 0:
            self.spawn(self._incidents())
        try:
            while not self.stopping:
                if self.reboots.pending is not None:
                    await self.reboots.power_cycle()
                    continue
                await self.connection.run_once()
                if self.winding_down:
                    continue
                await self.connection.back_off()
        finally:
            self._run_task = None
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self, *, graceful: bool = True, within: float | None = None) -> None:
        """End run(). Graceful: stop sessions and deliver what is queued first (bounded)."""
        timeout = self.config.response_timeout if within is None else within
        self.closing = True
        if graceful and self.online:
            self.sessions.finish_all("Local")
            await self.outbox.drain(timeout)
        self.stopping = True
        self.notify()
        await self.connection.close()
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=timeout)
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=timeout)

    async def _lifecycle(self, link: Link) -> None:
        """One connection's life: boot (unless still registered), report, heartbeat."""
        try:
            if not self.registration.accepted or self.config.boot_on_reconnect:
                await self.registration.boot_until_accepted()
            else:
                self.events.add("connected", "reconnected, still registered: no BootNotification")
            self.connection.reset_back_off()
            self.connectors.report_all()
            self.firmware.after_boot()
            self.reboots.after_boot()
            if self.config.request_certificate and not self.certificates.own:
                self.spawn(self.sign_certificate())
            await self.registration.heartbeats(link)
        except Offline:
            return

    def _set_heartbeat_interval(self, seconds: float) -> None:
        """Versions also show the new interval in their settings."""
        self.registration.set_heartbeat_interval(seconds)

    def _setting_changed(self, name: str, value: str) -> None:
        """The store accepted a new value for `name`: what it controls changes at once."""
        what = self.settings.get(name)
        if what == "heartbeat_interval":
            self._set_heartbeat_interval(int(value))
        elif what == "meter_interval":
            self.sessions.meter_interval = float(value)
        elif what == "message_attempts":
            self.outbox.attempts = int(value)
        elif what == "message_retry_interval":
            self.outbox.retry_interval = float(value)
        elif what == "ping_interval":
            self.connection.ping_interval = float(value) or None
        elif what == "password":
            # Security profiles 1 and 2: the Basic auth password from the next connection on;
            # a 1.6 AuthorizationKey arrives hex-encoded (the store took only such a value).
            hex_key = name == "AuthorizationKey"
            self.connection.password = credentials.password_of_hex_key(value) if hex_key else value
            self.events.add("password", f"{name} changed; used from the next connection")

    # --- what a charger does on request ---------------------------------------------------

    async def start_session(
        self, id_tag: str | None = None, connector_id: int | None = None, **options
    ) -> Session | None:
        """Plug in a car and start charging: Authorize (when online), then the transaction.

        options: remote_start_id, authorize, tag_type, iso15118 (see Sessions.start).
        Returns the session once the CSMS answered the start (or at once when offline), or
        None when no connector is free or the id tag is refused.
        """
        return await self.sessions.start(id_tag, connector_id, **options)

    async def stop_session(self, reason: str = "Local", connector_id: int | None = None):
        """End the session on connector_id (or the first one); returns it, or None."""
        return await self.sessions.stop(reason, connector_id)

    async def send_meter_values(
        self, connector_id: int | None = None, *, context: str = "Sample.Periodic"
    ):
        """Take a meter reading now and send it; returns the CSMS's answer (None offline)."""
        if connector_id is None:
            session = self.sessions.find()
            connector_id = session.connector_id if session else 1
        sample = self.sessions.sample(self.connectors[connector_id], context)
        return await self.outbox.settle(sample)

    async def fault(
        self, error_code: str = "GroundFailure", connector_id: int = 1, *, clear_after=None
    ) -> None:
        """The connector goes Faulted with error_code; a session on it ends."""
        await self.connectors.fault(error_code, connector_id, clear_after=clear_after)

    async def clear_fault(self, connector_id: int = 1) -> None:
        await self.connectors.clear_fault(connector_id)

    async def go_silent(self, seconds: float) -> None:
        """Send nothing for `seconds`: no heartbeats, no answers, no queued messages.

        Commands from the CSMS are ignored meanwhile; the WebSocket itself stays open (its
        pings are answered), so the CSMS has to notice the missing heartbeats.
        """
        self.connection.go_silent(seconds)
        self.events.add("silent", f"sending nothing for {seconds:g} s")

    def expire_reservations(self, now: datetime | None = None) -> int:
        """End every reservation whose expiry has come by `now` (the charger's clock when not
        given), as the charger does at each one's expiry; returns how many ended."""
        return self.connectors.expire_reservations(now)

    async def security_event(self, kind: str, tech_info: str | None = None):
        """Report a security event; kept while offline, as the security whitepaper asks."""
        self.events.add("security", f"{kind}{f' ({tech_info})' if tech_info else ''}")
        payload = self.calls.SecurityEventNotification(
            type=kind, timestamp=iso(), tech_info=tech_info[:255] if tech_info else None
        )
        return await self.outbox.send(payload, persistent=True)

    async def data_transfer(
        self, message_id: str | None = None, data: str | None = None, vendor_id: str | None = None
    ) -> str | None:
        """A vendor-specific message; returns the CSMS's status (None when offline)."""
        payload = self.calls.DataTransfer(
            vendor_id=vendor_id or self.config.vendor, message_id=message_id, data=data
        )
        result = await self.outbox.send(payload)
        status = None if result is None else result.status
        self.events.add("data-transfer", f"{message_id or '-'}: {status}")
        return status

    async def sign_certificate(
        self, certificate_type: str | None = None, csr: str | None = None
    ) -> str | None:
        """Ask the CSMS to have a new certificate signed (for a new key, or with the `csr`
        given, as a test sends a bad one); returns its status."""
        csr = csr or self.certificates.csr(certificate_type or "ChargingStationCertificate")
        result = await self.outbox.send(self._sign_certificate_payload(csr, certificate_type))
        status = None if result is None else result.status
        self.events.add("certificate", f"signing request: {status}")
        return status

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
        await self.wait_until(lambda: self.online)
        while True:
            await asyncio.sleep(self.config.incident_interval * self.rng.uniform(0.5, 1.5))
            if self.online:
                await self.rng.choice(self._incident_kinds())()
