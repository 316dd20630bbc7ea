"""A session's charging periods from what its charger reported: pure, no database.

Energy flows between two readings of the energy register; where the status history says the
connector was suspended or idle in that stretch, the energy is put on the rest of it. A stretch
without energy is parking, whatever the status says: parking time is real time without energy
flowing. Readings are the register (Wh) at their time; the session's meter start and stop are
readings too. A register that goes backwards (a replaced meter) counts no energy for that
stretch, never negative energy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.pricing import Period

# Connector states that mean energy is not being delivered (OCPP 1.6 connector statuses and
# 2.0.1 charging states, as the chargers' domain keeps them).
NOT_CHARGING = frozenset(
    {
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Preparing",
        "Available",
        "EVConnected",
        "Idle",
    }
)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Reading:
    at: datetime
    wh: Decimal


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str

    @property
    def suspended(self) -> bool:
        return self.status in NOT_CHARGING


def session_periods(
    *,
    start: datetime,
    end: datetime,
    readings: Iterable[Reading],
    statuses: Iterable[StatusChange] = (),
    currents: Iterable[tuple[datetime, Decimal]] = (),
    energy_wh: Decimal | None = None,
) -> list[Period]:
    """The periods of a session connected from `start` to `end`. With fewer than two readings,
    `energy_wh` (the session's total) is spread over the non-suspended time. `currents`
    (amperes summed over phases, at a time) give each period its highest current."""
    if end < start:
        raise ValueError("a session ends before it starts")
    kept = sorted((r for r in readings if start <= r.at <= end), key=lambda r: r.at)
    changes = sorted(statuses, key=lambda s: s.at)
    if len(kept) < 2 or kept[0].at > start or kept[-1].at < end:
        kept = _completed(kept, start, end, energy_wh)
    periods: list[Period] = []
    for first, second in zip(kept, kept[1:], strict=False):
        if second.at == first.at:
            continue
        delta = max(second.wh - first.wh, ZERO)
        periods += _stretch(first.at, second.at, delta, changes)
    if not periods:
        periods = [Period(start=start, end=end, energy_wh=ZERO, charging=False)]
    return _merged(_with_currents(periods, sorted(currents)))


def _completed(
    kept: list[Reading], start: datetime, end: datetime, energy_wh: Decimal | None
) -> list[Reading]:
    """Readings at the session's start and end where the charger sent none there."""
    if not kept:
        total = energy_wh or ZERO
        return [Reading(start, ZERO), Reading(end, total)]
    if kept[0].at > start:
        kept = [Reading(start, kept[0].wh), *kept]
    if kept[-1].at < end:
        last = kept[-1].wh
        if energy_wh is not None:
            last = max(last, kept[0].wh + energy_wh)
        kept = [*kept, Reading(end, last)]
    return kept


def _state_at(changes: Sequence[StatusChange], at: datetime) -> bool:
    """Suspended at `at`, by the newest status change at or before it (unknown: not)."""
    suspended = False
    for change in changes:
        if change.at > at:
            break
        suspended = change.suspended
    return suspended


def _stretch(
    low: datetime, high: datetime, delta: Decimal, changes: Sequence[StatusChange]
) -> list[Period]:
    if not delta:
        return [Period(start=low, end=high, energy_wh=ZERO, charging=False)]
    cuts = [low, *(c.at for c in changes if low < c.at < high), high]
    pieces = [(a, b, _state_at(changes, a)) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    flowing = [(a, b) for a, b, suspended in pieces if not suspended]
    if not flowing:
        # Energy flowed although the status said otherwise: the meter is the evidence.
        flowing = [(a, b) for a, b, _ in pieces]
        pieces = [(a, b, False) for a, b, _ in pieces]
    seconds = sum(((b - a).total_seconds() for a, b in flowing), 0.0)
    total = Decimal(str(seconds))
    periods = []
    given = ZERO
    last = flowing[-1]
    for a, b, suspended in pieces:
        if suspended:
            periods.append(Period(start=a, end=b, energy_wh=ZERO, charging=False))
            continue
        if (a, b) == last:
            share = delta - given
        else:
            share = delta * Decimal(str((b - a).total_seconds())) / total
        given += share
        periods.append(Period(start=a, end=b, energy_wh=share, charging=True))
    return periods


def _with_currents(periods: list[Period], currents: list[tuple[datetime, Decimal]]) -> list[Period]:
    if not currents:
        return periods
    out = []
    for period in periods:
        inside = [a for at, a in currents if period.start <= at < period.end]
        highest = max(inside) if inside and period.charging else None
        out.append(
            Period(
                start=period.start,
                end=period.end,
                energy_wh=period.energy_wh,
                charging=period.charging,
                current_a=highest,
            )
        )
    return out


def _merged(periods: list[Period]) -> list[Period]:
    """Neighbouring parking periods as one (a charger reporting every minute while a car sits
    idle for hours makes hundreds)."""
    merged: list[Period] = []
    for period in periods:
        before = merged[-1] if merged else None
        if (
            before is not None
            and not before.charging
            and not period.charging
            and before.end == period.start
        ):
            merged[-1] = Period(start=before.start, end=period.end, charging=False)
        else:
            merged.append(period)
    return merged


# A sample as the selector hands it over: (time, measurand, phase, unit, value).
SampleRow = tuple[datetime, str, str, str, Decimal | None]


def register_readings(samples: Iterable[SampleRow]) -> list[Reading]:
    """Energy register readings in Wh (the register's total, not a phase's)."""
    readings = []
    for at, measurand, phase, unit, value in samples:
        if measurand != ENERGY_REGISTER or value is None or phase:
            continue
        readings.append(Reading(at, value * (1000 if unit == "kWh" else 1)))
    return readings


def summed_currents(samples: Iterable[SampleRow]) -> list[tuple[datetime, Decimal]]:
    """The current over all phases at each sampled time: the phases' sum where the charger
    sent them, else the value without a phase."""
    phases: dict[datetime, Decimal] = {}
    whole: dict[datetime, Decimal] = {}
    for at, measurand, phase, _unit, value in samples:
        if measurand != CURRENT or value is None:
            continue
        if phase.startswith("L") and "-" not in phase:
            phases[at] = phases.get(at, ZERO) + value
        elif not phase:
            whole[at] = value
    return sorted({**whole, **phases}.items())


ENERGY_REGISTER = "Energy.Active.Import.Register"
CURRENT = "Current.Import"
