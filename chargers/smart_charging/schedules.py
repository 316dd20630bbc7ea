"""Charging schedules in domain terms, and the arithmetic on them: what an ISO 15118 EV needs
and plans, what a charger holds, and whether one schedule stays within another. Pure: no
database, no clock.

A schedule's limits are in its unit: "A" (amperes per phase) or "W" (watts over all phases);
compared, both are amperes per phase at the nominal voltage, on three phases unless a period
names another number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chargers.smart_charging.models import NOMINAL_VOLTAGE

AMPERES, WATTS = "A", "W"
THREE_PHASES = 3
# Limits have one decimal, and watts read as amperes round: less over is no excess.
TOLERANCE_A = 0.1


@dataclass(frozen=True)
class Period:
    start_s: int  # seconds after the schedule's start
    # In the schedule's unit; None for a period that sets no limit (OCPP 2.1's setpoints).
    limit: float | None
    phases: int | None = None  # None: three (AC), or whatever a DC charger has


def _after(start: datetime, seconds: int) -> datetime:
    """`seconds` after `start`, or the end of time where the calendar ends first."""
    try:
        return start + timedelta(seconds=seconds)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Schedule:
    unit: str
    periods: tuple[Period, ...]
    # When the first period starts; None for a schedule relative to its transaction's start.
    start: datetime | None = None
    duration_s: int | None = None

    def amperes(self, period: Period, phases: int | None = None) -> float | None:
        """A period's limit in amperes per phase (`phases` when the period names none)."""
        if self.unit == AMPERES or period.limit is None:
            return period.limit
        count = period.phases or phases or THREE_PHASES
        return period.limit / (NOMINAL_VOLTAGE * count)

    def spans(self, start: datetime) -> list[tuple[datetime, datetime | None, Period]]:
        """Each period with when it begins and ends (None: open), the schedule starting at
        `start`."""
        ends: list[int | None] = [p.start_s for p in self.periods[1:]]
        ends.append(self.duration_s)
        return [
            (_after(start, p.start_s), None if end is None else _after(start, end), p)
            for p, end in zip(self.periods, ends, strict=True)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "start": None if self.start is None else self.start.isoformat(),
            "duration_s": self.duration_s,
            "periods": [[p.start_s, p.limit, p.phases] for p in self.periods],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        start = data.get("start")
        return cls(
            unit=data["unit"],
            periods=tuple(
                Period(int(s), None if limit is None else float(limit), n)
                for s, limit, n in data["periods"]
            ),
            start=None if start is None else datetime.fromisoformat(start),
            duration_s=data.get("duration_s"),
        )


def excess(ev: Schedule, ev_start: datetime, limits: Schedule, limits_start: datetime) -> str:
    """Why the EV's schedule (from `ev_start`) is not within `limits` (from `limits_start`),
    in words; empty when it is. Compared wherever both have a period in force: before the
    limits start and after they end, nothing binds the EV."""
    for begins, ends, period in ev.spans(ev_start):
        for l_begins, l_ends, bound in limits.spans(limits_start):
            if not _overlap(begins, ends, l_begins, l_ends):
                continue
            wanted = ev.amperes(period, bound.phases)
            allowed = limits.amperes(bound, period.phases)
            if wanted is not None and allowed is not None and wanted > allowed + TOLERANCE_A:
                return (
                    f"from {period.start_s} s: {period.limit:g} {ev.unit} ({wanted:.1f} A) is "
                    f"over the {allowed:.1f} A sent"
                )
    return ""


def _overlap(a0: datetime, a1: datetime | None, b0: datetime, b1: datetime | None) -> bool:
    return (a1 is None or b0 < a1) and (b1 is None or a0 < b1)


def in_force(points: Iterable[tuple[datetime, float]], now: datetime) -> list[tuple[str, float]]:
    """Limits from `now` on as (start, limit): the one in force then starts "now", the later
    ones at their times; limits to one decimal. What two records of a schedule are compared
    by."""
    out: list[tuple[str, float]] = []
    for begins, limit in sorted(points, key=lambda point: point[0]):
        key = "now" if begins <= now else begins.isoformat()
        if key == "now":
            out.clear()
        out.append((key, round(float(limit), 1)))
    return out


def points_of(schedule: Schedule, start: datetime) -> list[tuple[datetime, float]]:
    """A schedule's limits as (when it begins, amperes per phase)."""
    points = [(begins, schedule.amperes(p)) for begins, _ends, p in schedule.spans(start)]
    return [(begins, amperes) for begins, amperes in points if amperes is not None]


def at_most(
    periods: tuple[tuple[float, float], ...], count: int
) -> tuple[tuple[float, float], ...]:
    """A schedule (start, limit) in at most `count` periods, never above the original at any
    moment: the two neighbours whose limits differ least become one at the lower limit, until
    it fits (an ISO 15118 EV takes at most its maxScheduleTuples)."""
    merged = list(periods)
    while len(merged) > max(1, count):
        i = min(range(len(merged) - 1), key=lambda j: abs(merged[j][1] - merged[j + 1][1]))
        merged[i : i + 2] = [(merged[i][0], min(merged[i][1], merged[i + 1][1]))]
    return tuple(merged)


@dataclass(frozen=True)
class EvNeeds:
    """What an ISO 15118 EV says it needs (NotifyEVChargingNeeds), in domain terms."""

    transfer: str  # the energy transfer it asked for, e.g. "AC_three_phase", "DC"
    departure_at: datetime | None = None
    energy_wh: int | None = None
    # AC: the EV's own limits per phase.
    min_current_a: float | None = None
    max_current_a: float | None = None
    # DC: the most power it takes.
    max_power_w: float | None = None
    # The most periods a schedule sent to it may have (maxScheduleTuples).
    max_schedule_tuples: int | None = None


@dataclass(frozen=True)
class HeldProfile:
    """A charging profile a charger reports it holds (ReportChargingProfiles)."""

    evse_id: int
    source: str  # who set it: CSO (us), EMS, SO, Other
    profile_id: int
    stack_level: int
    # What it is for in the control loop's terms ("session", "fallback", "charger_max"), or
    # "" for a purpose the loop never sends; `purpose` keeps the charger's word.
    kind: str
    purpose: str
    transaction_id: str
    schedule: Schedule

    def as_json(self) -> dict[str, Any]:
        return {
            "evse_id": self.evse_id,
            "source": self.source,
            "profile_id": self.profile_id,
            "stack_level": self.stack_level,
            "kind": self.kind,
            "purpose": self.purpose,
            "transaction_id": self.transaction_id,
            "schedule": self.schedule.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeldProfile:
        return cls(**{**data, "schedule": Schedule.from_json(data["schedule"])})


@dataclass(frozen=True)
class Composite:
    """The schedule a charger says it will follow on an EVSE (GetCompositeSchedule)."""

    evse_id: int
    schedule: Schedule


@dataclass(frozen=True)
class SentLimit:
    """A session's limit as a SetChargingProfile sent it: where, for which transaction."""

    evse_id: int
    transaction_id: str
    schedule: Schedule
