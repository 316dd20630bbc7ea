"""The load generator: one worker process drives a share of the simulated chargers.

Each worker runs its own asyncio loop with raw OCPP 1.6J frames over `websockets`, so the load
spreads over as many processes as the orchestrator starts. A worker goes through the same steps
for every scenario and reports each one on a multiprocessing queue:

1. setup: connect and boot its chargers (ramped, so that setup is not itself a storm), then
   report "ready";
2. measure: on the `go` event, drive the scenario's load until its duration ends (or the
   `stop` event for the command scenario), then report "result" with raw latencies, counts and
   its own CPU time over the window;
3. teardown: on the `release` event, stop open transactions and close its sockets.

The orchestrator reads the server's /proc between those steps, while the sockets are held.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import random
import resource
import time
from dataclasses import asdict, dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from bench import frames
from chargers.simulator.connection import retry_after

CALL, CALLRESULT, CALLERROR = 2, 3, 4
POLL = 0.02

# The realistic fleet's cadence, in meter intervals (`--fleet-interval`, 5 s by default): a
# heartbeat every 12; per connector, an idle spell of 4 on average between sessions, and
# sessions of 12 to 36 MeterValues. With the calls around each session, that is about 0.45
# calls per second per two-connector charger: 900 per second for 2,000 of them.
FLEET_HEARTBEAT_EVERY = 12
FLEET_IDLE_MEAN = 4
FLEET_METER_VALUES = (12, 36)
FLEET_CONNECTORS = (1, 2)


class CallFailed(Exception):
    """The server answered with a CALLERROR, or not at all."""


class Busy(Exception):
    """The server refused the upgrade for now (503), asking to come back in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"busy: retry in {seconds:g} s")
        self.seconds = seconds


@dataclass
class Link:
    """One charger's socket: sends CALLs and matches replies; answers the server's CALLs."""

    identity: str
    ws: ClientConnection
    pending: dict[str, asyncio.Future] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=itertools.count)
    commands_answered: int = 0
    reader: asyncio.Task | None = None
    transaction_id: int | None = None
    energy_wh: int = 0
    # OCPP-J: one CALL at a time from a charger; its connectors take turns (the fleet scenario).
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def open(self) -> bool:
        return self.reader is not None and not self.reader.done()

    async def call(self, action: str, payload: dict, timeout: float) -> tuple[float, dict]:  # noqa: ASYNC109
        unique_id = str(next(self.ids))
        future = asyncio.get_running_loop().create_future()
        self.pending[unique_id] = future
        started = time.perf_counter()
        try:
            await self.ws.send(json.dumps([CALL, unique_id, action, payload]))
            reply = await asyncio.wait_for(future, timeout)
        except (TimeoutError, WebSocketException) as error:
            raise CallFailed(f"{action}: {type(error).__name__}") from None
        finally:
            self.pending.pop(unique_id, None)
        elapsed = time.perf_counter() - started
        if reply[0] != CALLRESULT:
            raise CallFailed(f"{action}: CALLERROR {reply[2]}")
        return elapsed, reply[2]

    async def read(self) -> None:
        with contextlib.suppress(WebSocketException):
            async for raw in self.ws:
                message = json.loads(raw)
                if message[0] == CALL:
                    await self.answer(message[1], message[2], message[3])
                    continue
                future = self.pending.get(message[1])
                if future is not None and not future.done():
                    future.set_result(message)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WebSocketException("connection closed"))

    async def answer(self, unique_id: str, action: str, payload: dict) -> None:
        reply = frames.answer_to(action, payload)
        if reply is None:
            frame = [CALLERROR, unique_id, "NotImplemented", f"{action} is not simulated", {}]
        else:
            frame = [CALLRESULT, unique_id, reply]
            self.commands_answered += 1
        await self.ws.send(json.dumps(frame))


@dataclass
class Answered:
    """What the server answered and so must have stored (`bench.stored` counts it): the
    transactions it accepted, the 2.0.1 events and the sampled values it acknowledged."""

    transactions: list[str] = field(default_factory=list)
    events: int = 0
    samples: int = 0


@dataclass
class Worker:
    spec: dict
    links: list[Link] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    sessions_done: int = 0
    answered: Answered = field(default_factory=Answered)
    busy: int = 0  # upgrades refused with 503 (admission control), each tried again
    slowest_refusal: float = 0.0

    @property
    def version(self) -> str:
        return self.spec.get("version", "1.6")

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def timeout(self) -> float:
        return self.spec["call_timeout"]

    def id_tag(self, n: int) -> str:
        tags = self.spec["id_tags"]
        return tags[n % len(tags)]

    async def open(self, identity: str) -> tuple[Link | None, float, float]:
        """Connect and boot one charger: (link or None, handshake seconds, boot seconds). A
        busy server's 503 is waited out as its Retry-After asks, as a charger would, and the
        charger tries again (`busy` counts them); the seconds are those of the last try, each
        refusal being a reply of its own."""
        while True:
            try:
                return await self._open_once(identity)
            except Busy as busy:
                self.busy += 1
                await asyncio.sleep(busy.seconds)

    async def _open_once(self, identity: str) -> tuple[Link | None, float, float]:
        token = base64.b64encode(f"{identity}:{self.spec['password']}".encode()).decode()
        started = time.perf_counter()
        try:
            ws = await connect(
                self.spec["url"] + identity,
                subprotocols=[f"ocpp{self.version}"],
                additional_headers={"Authorization": f"Basic {token}"},
                open_timeout=self.spec["open_timeout"],
                # Chargers do not compress; the server's pings are answered by websockets.
                compression=None,
                ping_interval=None,
                max_queue=64,
            )
        except InvalidStatus as refused:
            response = refused.response
            wait = retry_after(response.status_code, response.headers.get("Retry-After"))
            if wait is not None:
                self.slowest_refusal = max(self.slowest_refusal, time.perf_counter() - started)
                raise Busy(wait) from None
            self.error(f"connect: HTTP {response.status_code}")
            return None, time.perf_counter() - started, 0.0
        except (OSError, TimeoutError, WebSocketException) as error:
            self.error(f"connect: {type(error).__name__}")
            return None, time.perf_counter() - started, 0.0
        handshake = time.perf_counter() - started
        link = Link(identity=identity, ws=ws)
        link.reader = asyncio.create_task(link.read())
        try:
            boot_payload = frames.BOOT_201 if self.version == "2.0.1" else frames.BOOT
            boot, reply = await link.call("BootNotification", boot_payload, self.timeout)
        except CallFailed as failed:
            self.error(str(failed))
            await ws.close()
            return None, handshake, 0.0
        if reply.get("status") != "Accepted":
            self.error(f"BootNotification: {reply.get('status')}")
            await ws.close()
            return None, handshake, boot
        return link, handshake, boot

    async def open_all(self, ramp: int) -> None:
        gate = asyncio.Semaphore(ramp)

        async def one(identity: str) -> None:
            async with gate:
                link, _, _ = await self.open(identity)
            if link is not None:
                self.links.append(link)

        await asyncio.gather(*(one(identity) for identity in self.spec["ids"]))

    async def start_transactions(self) -> None:
        async def one(n: int, link: Link) -> None:
            try:
                _, reply = await link.call(
                    "StartTransaction",
                    frames.start_transaction(
                        connector_id=1, id_tag=self.id_tag(n), meter_start=link.energy_wh
                    ),
                    self.timeout,
                )
            except CallFailed as failed:
                self.error(str(failed))
                return
            link.transaction_id = reply["transactionId"]
            self.answered.transactions.append(str(link.transaction_id))

        await asyncio.gather(*(one(n, link) for n, link in enumerate(self.links)))

    async def close_all(self) -> None:
        async def one(n: int, link: Link) -> None:
            if link.transaction_id is not None and link.open:
                with contextlib.suppress(CallFailed):
                    await link.call(
                        "StopTransaction",
                        frames.stop_transaction(
                            transaction_id=link.transaction_id,
                            id_tag=self.id_tag(n),
                            meter_stop=link.energy_wh,
                        ),
                        self.timeout,
                    )
            with contextlib.suppress(WebSocketException, OSError):
                await link.ws.close()

        await asyncio.gather(*(one(n, link) for n, link in enumerate(self.links)))

    # --- Scenarios: setup, then measure -------------------------------------------------

    async def setup(self) -> dict:
        scenario = self.spec["scenario"]
        if scenario != "storm":
            await self.open_all(self.spec["ramp"])
        if scenario == "meter_values":
            await self.start_transactions()
        return {
            "connected": len(self.links),
            "connected_ids": [link.identity for link in self.links],
            "errors": dict(self.errors),
        }

    async def measure(self, stop) -> dict:
        scenario = self.spec["scenario"]
        if scenario == "storm":
            return await self.storm()
        if scenario == "command":
            await _wait(stop)
            return {
                "held": sum(link.open for link in self.links),
                "commands_answered": sum(link.commands_answered for link in self.links),
            }
        deadline = time.perf_counter() + self.spec["duration"]
        loop = {
            "hold": self.heartbeats,
            "meter_values": self.meter_loop,
            "sessions": self.sessions,
            "sessions_201": self.sessions_201,
            "fleet": self.fleet,
        }
        latencies: list[float] = []
        await asyncio.gather(
            *(loop[scenario](n, link, deadline, latencies) for n, link in enumerate(self.links))
        )
        return {
            "latencies": latencies,
            "held": sum(link.open for link in self.links),
            "sessions": self.sessions_done,
            "answered": asdict(self.answered),
        }

    async def heartbeats(self, n: int, link: Link, deadline: float, latencies: list) -> None:
        interval = self.spec["interval"]
        # Spread the first heartbeats over one interval, as a fleet booted over time would.
        await asyncio.sleep(interval * n / max(len(self.links), 1))
        while time.perf_counter() < deadline and link.open:
            try:
                elapsed, _ = await link.call("Heartbeat", {}, self.timeout)
            except CallFailed as failed:
                self.error(str(failed))
                return
            latencies.append(elapsed)
            await asyncio.sleep(max(0.0, min(interval - elapsed, deadline - time.perf_counter())))

    async def meter_loop(self, n: int, link: Link, deadline: float, latencies: list) -> None:
        while time.perf_counter() < deadline and link.open:
            link.energy_wh += 37
            payload = frames.meter_values(
                connector_id=1, transaction_id=link.transaction_id, energy_wh=link.energy_wh
            )
            try:
                elapsed, _ = await link.call("MeterValues", payload, self.timeout)
            except CallFailed as failed:
                self.error(str(failed))
                return
            latencies.append(elapsed)
            self.answered.samples += frames.SAMPLES_PER_METER_VALUES

    async def sessions(self, n: int, link: Link, deadline: float, latencies: list) -> None:
        """Closed loop of whole sessions: Authorize, StartTransaction, MeterValues, Stop."""
        tag = self.id_tag(n)
        while time.perf_counter() < deadline and link.open:
            try:
                elapsed, _ = await link.call("Authorize", {"idTag": tag}, self.timeout)
                latencies.append(elapsed)
                start = frames.start_transaction(
                    connector_id=1, id_tag=tag, meter_start=link.energy_wh
                )
                elapsed, reply = await link.call("StartTransaction", start, self.timeout)
                latencies.append(elapsed)
                transaction_id = reply["transactionId"]
                self.answered.transactions.append(str(transaction_id))
                link.energy_wh += 250
                meter = frames.meter_values(
                    connector_id=1, transaction_id=transaction_id, energy_wh=link.energy_wh
                )
                elapsed, _ = await link.call("MeterValues", meter, self.timeout)
                latencies.append(elapsed)
                self.answered.samples += frames.SAMPLES_PER_METER_VALUES
                stop = frames.stop_transaction(
                    transaction_id=transaction_id, id_tag=tag, meter_stop=link.energy_wh
                )
                elapsed, _ = await link.call("StopTransaction", stop, self.timeout)
                latencies.append(elapsed)
                self.sessions_done += 1
            except CallFailed as failed:
                self.error(str(failed))
                return

    async def sessions_201(self, n: int, link: Link, deadline: float, latencies: list) -> None:
        """Closed loop of whole 2.0.1 sessions: Authorize, then TransactionEvent Started,
        Updated (nine samples) and Ended."""
        tag = self.id_tag(n)
        while time.perf_counter() < deadline and link.open:
            transaction_id = f"{link.identity}-{next(link.ids)}"
            try:
                elapsed, _ = await link.call("Authorize", frames.authorize_201(tag), self.timeout)
                latencies.append(elapsed)
                for seq_no, event_type in enumerate(("Started", "Updated", "Ended")):
                    link.energy_wh += 125 if seq_no else 0
                    event = frames.transaction_event(
                        event_type=event_type,
                        seq_no=seq_no,
                        transaction_id=transaction_id,
                        energy_wh=link.energy_wh,
                        id_tag=tag if event_type == "Started" else "",
                    )
                    elapsed, _ = await link.call("TransactionEvent", event, self.timeout)
                    latencies.append(elapsed)
                    if event_type == "Started":
                        self.answered.transactions.append(transaction_id)
                    self.answered.events += 1
                    self.answered.samples += frames.SAMPLES_PER_EVENT[event_type]
                self.sessions_done += 1
            except CallFailed as failed:
                self.error(str(failed))
                return

    async def fleet(self, n: int, link: Link, deadline: float, latencies: list) -> None:
        """A charger of a realistic fleet, open loop: a heartbeat now and then and, on each of
        its two connectors, sessions at random times (plug in, Authorize, StartTransaction,
        Charging, MeterValues every interval, StopTransaction, Finishing, Available). A
        session still running at the end is stopped, so that none is left open."""
        interval = self.spec["interval"]
        rng = random.Random(link.identity)  # noqa: S311 (a pattern of load, not a secret)

        def running() -> bool:
            return time.perf_counter() < deadline and link.open

        async def pause(seconds: float) -> None:
            await asyncio.sleep(max(0.0, min(seconds, deadline - time.perf_counter())))

        async def call(action: str, payload: dict) -> dict:
            async with link.turn:
                elapsed, reply = await link.call(action, payload, self.timeout)
            latencies.append(elapsed)
            return reply

        async def status(connector_id: int, state: str) -> None:
            await call(
                "StatusNotification",
                frames.status_notification(connector_id=connector_id, status=state),
            )

        async def heartbeats() -> None:
            every = FLEET_HEARTBEAT_EVERY * interval
            await pause(rng.uniform(0, every))
            while running():
                await call("Heartbeat", {})
                await pause(every)

        async def session(connector_id: int, tag: str, energy_wh: int) -> int:
            await status(connector_id, "Preparing")
            await call("Authorize", {"idTag": tag})
            start = frames.start_transaction(
                connector_id=connector_id, id_tag=tag, meter_start=energy_wh
            )
            transaction_id = (await call("StartTransaction", start))["transactionId"]
            self.answered.transactions.append(str(transaction_id))
            await status(connector_id, "Charging")
            for _ in range(rng.randint(*FLEET_METER_VALUES)):
                await pause(interval)
                if not running():
                    break
                energy_wh += 15  # 11 kW for 5 s
                meter = frames.meter_values(
                    connector_id=connector_id, transaction_id=transaction_id, energy_wh=energy_wh
                )
                await call("MeterValues", meter)
                self.answered.samples += frames.SAMPLES_PER_METER_VALUES
            stop = frames.stop_transaction(
                transaction_id=transaction_id, id_tag=tag, meter_stop=energy_wh
            )
            await call("StopTransaction", stop)
            self.sessions_done += 1
            await status(connector_id, "Finishing")
            await status(connector_id, "Available")
            return energy_wh

        async def connector(connector_id: int) -> None:
            tag = self.id_tag(2 * n + connector_id)
            energy_wh = 0
            await status(connector_id, "Available")
            while True:
                await pause(rng.expovariate(1 / (FLEET_IDLE_MEAN * interval)))
                if not running():
                    return
                energy_wh = await session(connector_id, tag, energy_wh)

        try:
            await asyncio.gather(heartbeats(), *(connector(c) for c in FLEET_CONNECTORS))
        except CallFailed as failed:
            # The charger gives up; a session it had open stays so, and the figures say so.
            self.error(str(failed))

    async def storm(self) -> dict:
        """Every charger of this worker connects and boots at once."""
        started = time.perf_counter()
        accepted_at: list[float] = []
        slowest: list[float] = []

        async def one(identity: str) -> None:
            link, handshake, boot = await self.open(identity)
            slowest.append(max(handshake, boot))
            if link is not None:
                self.links.append(link)
                accepted_at.append(time.perf_counter() - started)

        await asyncio.wait_for(
            asyncio.gather(*(one(identity) for identity in self.spec["ids"])),
            self.spec["storm_timeout"],
        )
        return {
            "accepted_at": accepted_at,
            "slowest_replies": [*slowest, self.slowest_refusal],
            "busy": self.busy,
        }


async def _wait(event) -> None:
    """Wait for a multiprocessing Event (set by the orchestrator in another process, so an
    asyncio.Event cannot stand in) without blocking this worker's loop."""
    while not event.is_set():  # noqa: ASYNC110
        await asyncio.sleep(POLL)


async def _run(spec: dict, queue, go, stop, release) -> None:
    worker = Worker(spec)
    index = spec["index"]
    queue.put(("ready", index, await worker.setup()))
    await _wait(go)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        result = await worker.measure(stop)
    except TimeoutError:
        result = {"accepted_at": [], "slowest_replies": [], "timed_out": True}
    result["cpu_s"] = time.process_time() - cpu
    result["wall_s"] = time.perf_counter() - wall
    result["errors"] = dict(worker.errors)
    queue.put(("result", index, result))
    await _wait(release)
    await asyncio.wait_for(worker.close_all(), spec["call_timeout"] + 5)


def raise_open_files_limit() -> None:
    """Thousands of sockets need thousands of descriptors: lift the soft limit to the hard."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_worker(spec: dict, queue, go, stop, release) -> None:
    """Entry point of a worker process (multiprocessing target)."""
    raise_open_files_limit()
    try:
        asyncio.run(_run(spec, queue, go, stop, release))
    except Exception as error:  # reported to the orchestrator, which stops waiting for us
        queue.put(("failed", spec["index"], f"{type(error).__name__}: {error}"))
