"""What the simulator tells people: one line per notable event, and counters for a summary."""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class Output(Protocol):
    """Where the simulator writes its lines: a terminal, a file, a command's stdout."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


@dataclass(frozen=True)
class Event:
    at: datetime
    charger_id: str
    kind: str
    text: str

    def line(self) -> str:
        return f"{self.at:%H:%M:%S.%f}"[:-3] + f" {self.charger_id} {self.kind}: {self.text}"


class Reporter:
    """Prints events as they happen, unless quiet (benchmarks print only the summary)."""

    def __init__(self, stream: Output | None = None, *, quiet: bool = False):
        self.stream = stream or sys.stdout
        self.quiet = quiet

    def __call__(self, event: Event) -> None:
        if not self.quiet:
            self.stream.write(event.line() + "\n")
            self.stream.flush()


class EventLog:
    """A charger's recent events (the last `size`), each also handed to the reporter."""

    def __init__(
        self, charger_id: str, reporter: Callable[[Event], None] | None = None, size: int = 1000
    ):
        self.charger_id = charger_id
        self.reporter = reporter
        self._recent: deque[Event] = deque(maxlen=size)

    def add(self, kind: str, text: str) -> None:
        event = Event(now_utc(), self.charger_id, kind, text)
        self._recent.append(event)
        if self.reporter is not None:
            self.reporter(event)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._recent)

    def __len__(self) -> int:
        return len(self._recent)


@dataclass
class Stats:
    """Counters shared by every charger of a run; everything runs on one event loop."""

    started: float = field(default_factory=time.monotonic)
    counts: Counter = field(default_factory=Counter)
    energy_wh: float = 0.0
    # A bounded sample of round-trip times, enough for percentiles of a long run.
    rtts: deque = field(default_factory=lambda: deque(maxlen=50_000))

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def record_call(self, seconds: float) -> None:
        self.counts["calls"] += 1
        self.rtts.append(seconds)

    def summary_lines(self) -> list[str]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        c = self.counts
        lines = [
            f"ran {elapsed:.1f} s: {c['connects']} connects ({c['connect_failures']} failed, "
            f"{c['refused']} refused), {c['disconnects']} disconnects, {c['boots']} boots",
            f"sessions: {c['sessions_started']} started, {c['sessions_stopped']} stopped, "
            f"{self.energy_wh / 1000:.2f} kWh delivered, {c['faults']} faults",
            f"calls: {c['calls']} answered ({c['calls'] / elapsed:.1f}/s), "
            f"{c['call_errors']} CALLERRORs, {c['call_timeouts']} timeouts, "
            f"{c['messages_dropped']} messages given up, {c['commands']} commands received",
        ]
        if self.rtts:
            ordered = sorted(self.rtts)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            lines.append(
                f"round trip: median {statistics.median(ordered) * 1000:.1f} ms, "
                f"p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
            )
        return lines


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None = None) -> str:
    """An OCPP dateTime in UTC with milliseconds and a Z."""
    moment = moment or now_utc()
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
