"""Run one scenario against one target and turn the raw measurements into figures.

The orchestrator (this module, in the benchmark's main process) starts the load-generator
worker processes, waits until they are set up, reads the server's CPU from /proc, lets the load
go, reads /proc again when every worker has reported, and only then lets the workers close their
sockets, so that resident memory is read while every connection is held.
"""

from __future__ import annotations

import math
import multiprocessing
import queue as queues
import time
from dataclasses import dataclass

from bench import procstat
from bench.load import run_worker
from bench.targets import ID_TAGS, PASSWORD, BenchError, Target, charger_ids

# The order matters: a scenario's disconnects leave work for later (an offline alert is
# evaluated two minutes after a charger's socket closes), which would be billed to whichever
# scenario runs then. The small fleets go first; the big ones last, the realistic fleet at the end.
SCENARIOS = ("meter_values", "sessions", "sessions_201", "command", "hold", "storm", "fleet")
# Scenarios whose chargers speak 2.0.1; the others speak 1.6.
VERSION_201 = frozenset({"sessions_201"})
# Scenarios that store what they are answered for, checked against the database at the end.
STORING = frozenset({"meter_values", "sessions", "sessions_201", "fleet"})
# The realistic fleet's target: no call answered slower than this, in seconds.
FLEET_SLOWEST = 5.0


@dataclass
class Sizes:
    hold: int = 1000
    hold_interval: float = 5.0
    hold_duration: float = 15.0
    throughput_chargers: int = 50
    throughput_duration: float = 20.0
    storm: int = 1000
    storm_timeout: float = 60.0
    command_chargers: int = 200
    commands: int = 200
    fleet: int = 2000
    fleet_duration: float = 600.0
    fleet_interval: float = 5.0
    workers: int = 2
    ramp: int = 20
    call_timeout: float = 30.0

    def chargers(self, scenario: str) -> int:
        return {
            "hold": self.hold,
            "storm": self.storm,
            "meter_values": self.throughput_chargers,
            "sessions": self.throughput_chargers,
            "sessions_201": self.throughput_chargers,
            "command": self.command_chargers,
            "fleet": self.fleet,
        }[scenario]

    def duration(self, scenario: str) -> float:
        if scenario == "fleet":
            return self.fleet_duration
        return self.hold_duration if scenario == "hold" else self.throughput_duration

    def interval(self, scenario: str) -> float:
        return self.fleet_interval if scenario == "fleet" else self.hold_interval


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None when there is nothing to rank."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def settle(target: Target, *, quiet: float = 0.1, limit: float = 60.0) -> None:
    """Wait until the process holding the sockets is nearly idle (the last scenario's
    disconnects are written), so that one scenario's tail does not bill the next. Only that
    process is watched: PostgreSQL's helpers and Redis may be busy with other users' work."""
    pids = {"server": procstat.descendants(target.connection_pid)}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = procstat.snapshot(pids)
        time.sleep(0.5)
        if procstat.snapshot(pids).minus(before) < quiet * 0.5:
            return


def collect(queue, kind: str, count: int, timeout: float) -> list[dict]:
    """Wait for `count` messages of `kind` from the workers; a failed worker ends the wait."""
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while len(found) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BenchError(f"{count - len(found)} load workers did not report '{kind}'")
        try:
            message, index, body = queue.get(timeout=remaining)
        except queues.Empty:
            continue
        if message == "failed":
            raise BenchError(f"load worker {index} failed: {body}")
        if message == kind:
            found.append(body)
    return found


def split(ids: list[str], parts: int) -> list[list[str]]:
    chunks = [ids[n::parts] for n in range(parts)]
    return [chunk for chunk in chunks if chunk]


def run(target: Target, scenario: str, sizes: Sizes) -> dict:
    """Measure one scenario; returns its figures (see `figures`)."""
    ids = charger_ids(sizes.chargers(scenario))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    go, stop, release = context.Event(), context.Event(), context.Event()
    chunks = split(ids, sizes.workers)
    workers = [
        context.Process(
            target=run_worker,
            args=(
                {
                    "index": index,
                    "scenario": scenario,
                    "version": "2.0.1" if scenario in VERSION_201 else "1.6",
                    "url": target.url,
                    "ids": chunk,
                    "password": PASSWORD,
                    "id_tags": ID_TAGS,
                    "duration": sizes.duration(scenario),
                    "interval": sizes.interval(scenario),
                    "ramp": sizes.ramp,
                    "call_timeout": sizes.call_timeout,
                    "open_timeout": sizes.call_timeout,
                    "storm_timeout": sizes.storm_timeout,
                },
                queue,
                go,
                stop,
                release,
            ),
            daemon=True,
        )
        for index, chunk in enumerate(chunks)
    ]
    rss_before = procstat.rss_bytes(target.connection_pid)
    for worker in workers:
        worker.start()
    try:
        # Setup connects at `ramp` sockets at a time per worker; allow for a slow server.
        setup = collect(queue, "ready", len(workers), timeout=60 + len(ids) / 10)
        activity_before = target.database_activity()
        cpu_before = procstat.snapshot(target.server_pids())
        started = time.perf_counter()
        go.set()
        commands = None
        if scenario == "command":
            connected = [identity for part in setup for identity in part["connected_ids"]]
            if not connected:
                raise BenchError("no charger is connected to receive commands")
            commands = target.send_commands(sorted(connected), sizes.commands)
            stop.set()
        budget = sizes.duration(scenario) + sizes.storm_timeout + sizes.call_timeout + 30
        results = collect(queue, "result", len(workers), timeout=budget)
        wall = time.perf_counter() - started
        cpu_by_group = procstat.snapshot(target.server_pids()).by_group(cpu_before)
        cpu = sum(cpu_by_group.values())
        rss_after = procstat.rss_bytes(target.connection_pid)
    finally:
        stop.set()
        release.set()
        for worker in workers:
            worker.join(timeout=sizes.call_timeout + 10)
            if worker.is_alive():
                worker.terminate()
        queue.close()
    settle(target)
    activity = target.database_activity()
    answered = total_answered(results) if scenario in STORING else None
    return figures(
        scenario,
        sizes=sizes,
        setup=setup,
        results=results,
        commands=commands,
        wall=wall,
        server_cpu=cpu,
        server_cpu_by_group=cpu_by_group,
        rss_delta=rss_after - rss_before,
        database={k: v - activity_before[k] for k, v in activity.items()},
        persisted=persisted(target, answered),
    )


def total_answered(results: list[dict]) -> dict:
    """What every worker was answered for (`bench.load.Answered`), summed."""
    total: dict = {"transactions": [], "events": 0, "samples": 0}
    for part in results:
        answered = part["answered"]
        total["transactions"] += answered["transactions"]
        total["events"] += answered["events"]
        total["samples"] += answered["samples"]
    return total


def persisted(target: Target, answered: dict | None) -> dict:
    """Answered against stored: sessions, 2.0.1 events and samples, and how many of them the
    database lacks (nothing answered may be lost). Empty for a target that stores nothing."""
    if answered is None:
        return {}
    found = target.stored(answered)
    if found is None:
        return {}
    left_open = found.pop("left_open", 0)
    expected = {**answered, "transactions": len(answered["transactions"])}
    return {
        "answered_to_store": sum(expected.values()),
        "missing_in_database": sum(max(0, expected[k] - found[k]) for k in expected),
        "doubled_in_database": sum(max(0, found[k] - expected[k]) for k in expected),
        "left_open": left_open,
        "stored": found,
    }


def per(database: dict | None, counter: str, count: int) -> float | None:
    if not database or not count:
        return None
    return round(database[counter] / count, 2)


def figures(
    scenario,
    *,
    sizes,
    setup,
    results,
    commands,
    wall,
    server_cpu,
    server_cpu_by_group,
    rss_delta,
    database=None,
    persisted=None,
) -> dict:
    """The scenario's figures: plain numbers (seconds as ms, CPU as us) for table and JSON."""
    errors: dict[str, int] = {}
    for part in [*setup, *results]:
        for what, count in part.get("errors", {}).items():
            errors[what] = errors.get(what, 0) + count
    loadgen_cpu = sum(part["cpu_s"] for part in results)
    busiest = max((part["cpu_s"] / part["wall_s"] for part in results if part["wall_s"]), default=0)
    common = {
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_s_by_process": {k: round(v, 3) for k, v in server_cpu_by_group.items()},
        "wall_s": round(wall, 3),
        "loadgen_workers": len(results),
        "loadgen_cpu_s": round(loadgen_cpu, 3),
        "loadgen_busiest_pct": round(busiest * 100, 1),
        "errors": errors,
        # The scratch database's transactions and rows over the window (PostgreSQL only).
        "database": database or {},
    }
    held = sum(part.get("held", 0) for part in results)
    chargers = sizes.chargers(scenario)
    if scenario in {"hold", "meter_values", "sessions", "sessions_201", "fleet"}:
        latencies = [value for part in results for value in part["latencies"]]
        calls = len(latencies)
        figures = {
            "chargers": chargers,
            "held": held,
            "calls": calls,
            "calls_per_s": round(calls / wall, 1) if wall else None,
            "p50_ms": ms(percentile(latencies, 0.50)),
            "p99_ms": ms(percentile(latencies, 0.99)),
            "server_cpu_us_per_call": round(server_cpu / calls * 1e6, 1) if calls else None,
            "commits_per_call": per(database, "commits", calls),
        }
        if scenario == "hold":
            figures["rss_per_connection_kib"] = round(rss_delta / held / 1024, 1) if held else None
        if scenario in {"sessions", "sessions_201", "fleet"}:
            sessions = sum(part["sessions"] for part in results)
            figures["sessions_per_s"] = round(sessions / wall, 1) if wall else None
        if scenario == "fleet":
            figures["sessions"] = sessions
            figures["slowest_ms"] = ms(max(latencies, default=None))
            figures["calls_slower_than_5s"] = sum(value > FLEET_SLOWEST for value in latencies)
        return {**figures, **(persisted or {}), **common}
    if scenario == "storm":
        accepted = [value for part in results for value in part["accepted_at"]]
        slowest = [value for part in results for value in part["slowest_replies"]]
        return {
            "chargers": chargers,
            "accepted": len(accepted),
            # Until the last charger was Accepted: only meaningful when all of them were.
            "all_accepted_s": round(max(accepted), 3) if len(accepted) == chargers else None,
            "last_accepted_s": round(max(accepted), 3) if accepted else None,
            "slowest_reply_ms": ms(max(slowest, default=None)),
            # Upgrades refused with 503 by admission control, each tried again after its
            # Retry-After.
            "busy_refusals": sum(part.get("busy", 0) for part in results),
            "commits_per_charger": per(database, "commits", len(accepted)),
            **common,
        }
    latencies = commands["latencies"]
    return {
        "chargers": chargers,
        "held": held,
        "commands": len(latencies),
        "answered": commands["statuses"].get("answered", 0),
        "statuses": commands["statuses"],
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        **common,
    }
