"""Cheaper hours: sessions whose EV said how much energy it needs and when it leaves charge in
the cheaper periods of the site's time-of-use prices. A mixed-integer linear program (HiGHS,
through scipy) plans their current per period; every other session keeps the equal-share plan
(`allocation`), and so do these whenever there is nothing to gain or the program fails: no
price difference, a need that cannot be met in time, a solver error or timeout. Pure: no
database, no clock.

Per period, per node and phase, the planned sessions' limits plus what the plan gives the
others never exceed the node's limit in that period: the same guarantee as the allocator's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from chargers.smart_charging import allocation as alloc

log = logging.getLogger(__name__)

VOLTAGE = 230.0  # nominal, per phase (models.NOMINAL_VOLTAGE; this module stays pure)
LONGEST = 24 * 3600.0  # how far ahead a plan looks, at most
SOLVER_SECONDS = 0.5  # a plan that takes longer is given up for the equal share
# Among periods of the same price, earlier ones are preferred by this much per period (a
# car that leaves early gets its energy early, and the plan is unique).
EARLIER = 1e-6


@dataclass(frozen=True)
class PricePeriod:
    """From `offset_s` after now, energy costs `price` per kWh (until the next one)."""

    offset_s: float
    price: float


@dataclass(frozen=True)
class Flexible:
    """A session that may wait for cheaper hours: the energy its EV still needs (Wh) and
    when it leaves (seconds from now)."""

    connector: str
    energy_wh: float
    departure_s: float


def _price_at(prices: Sequence[PricePeriod], offset: float) -> float:
    price = prices[0].price
    for period in prices:
        if period.offset_s <= offset + 1e-9:
            price = period.price
    return price


def _limit_at(periods: Sequence[tuple[float, float]], offset: float) -> float:
    limit = periods[0][1] if periods else 0.0
    for start, value in periods:
        if start <= offset + 1e-9:
            limit = value
    return limit


def cheaper_periods(
    problem: alloc.Problem,
    plan: alloc.Plan,
    prices: Sequence[PricePeriod],
    flexible: Sequence[Flexible],
    changes: Sequence[alloc.LimitChange] | None = None,
) -> dict[str, tuple[tuple[float, float], ...]]:
    """Per connector of a flexible session the planner moved: its periods (seconds from now,
    limit A), the first at 0, ending with the equal share again after its departure. Empty
    when the equal-share plan stands (see the module's docstring). `changes`: the nodes'
    limit changes as far as the departures (the problem's own look only a short way)."""
    prices = sorted(prices, key=lambda p: p.offset_s)
    if not prices or not flexible or len({p.price for p in prices}) < 2:
        return {}
    try:
        return _solve(
            problem, plan, prices, flexible, problem.changes if changes is None else changes
        )
    except Exception:  # the equal share is always safe; a solver failure must not stop plans
        log.warning("cheaper hours: the planner failed; equal shares stand", exc_info=True)
        return {}


def _solve(problem, plan, prices, flexible, changes) -> dict[str, tuple[tuple[float, float], ...]]:
    from scipy.optimize import linprog  # type: ignore[import-untyped]  # imported when used

    by_key = plan.by_connector()
    connectors = {c.key: c for c in problem.connectors}
    sessions = {s.connector: s for s in problem.sessions}
    planned = [
        f
        for f in flexible
        if f.connector in by_key
        and f.energy_wh > 0
        and f.departure_s > 0
        and sessions[f.connector].fixed_a is None
        and not by_key[f.connector].paused
    ]
    if not planned:
        return {}
    end = min(LONGEST, max(f.departure_s for f in planned))
    edges = {0.0, end}
    edges.update(p.offset_s for p in prices if 0 < p.offset_s < end)
    edges.update(c.offset_s for c in changes if 0 < c.offset_s < end)
    edges.update(f.departure_s for f in planned if f.departure_s < end)
    for allocation in plan.allocations:
        edges.update(start for start, _ in allocation.periods if 0 < start < end)
    starts = sorted(edges)[:-1]
    ends = sorted(edges)[1:]

    # Each period's node limits and what the others take of them.
    rows_cap: list[tuple[list[int], float]] = []
    flex_keys = [f.connector for f in planned]
    flex_set = set(flex_keys)
    n_t = len(starts)
    var = {(k, t): i * n_t + t for i, k in enumerate(flex_keys) for t in range(n_t)}
    overrides: dict[str, float] = {}
    changes = sorted(changes, key=lambda c: c.offset_s)
    for t, start in enumerate(starts):
        overrides = {}
        for change in changes:
            if change.offset_s <= start + 1e-9:
                overrides.update(change.limits)
        tree = alloc._tree(problem.nodes, overrides)
        used = [0.0] * len(tree.limits)
        for session in problem.sessions:
            if session.connector in flex_set or session.connector not in connectors:
                continue
            allocation = by_key[session.connector]
            amount = session.fixed_a
            if amount is None:
                amount = _limit_at(allocation.periods, start)
            for slot in alloc._slots(tree, connectors[session.connector]):
                used[slot] += amount
        members: dict[int, list[int]] = {}
        for k in flex_keys:
            for slot in alloc._slots(tree, connectors[k]):
                members.setdefault(slot, []).append(var[(k, t)])
        for slot, columns in members.items():
            rows_cap.append((columns, max(0.0, tree.limits[slot] - used[slot])))

    n = len(flex_keys) * n_t
    cost = [0.0] * n
    lower, upper, integrality = [0.0] * n, [0.0] * n, [0] * n
    need_rows: list[tuple[list[tuple[int, float]], float]] = []
    for k, f in zip(flex_keys, planned, strict=True):
        connector = alloc.within_ev(connectors[k], sessions[k].ev_min_a, sessions[k].ev_max_a)
        minimum = alloc.ceil_step(min(connector.min_a, connector.max_a))
        wh_per_a = VOLTAGE * len(connector.phases) / 3600.0
        terms = []
        for t, (start, stop) in enumerate(zip(starts, ends, strict=True)):
            i = var[(k, t)]
            seconds = stop - start
            # A limit is 0 or at least the EV's minimum: semi-continuous (HiGHS).
            lower[i], upper[i], integrality[i] = minimum, connector.max_a, 2
            cost[i] = (_price_at(prices, start) + EARLIER * t) * wh_per_a * seconds / 1000
            if start < f.departure_s:
                terms.append((i, wh_per_a * (min(stop, f.departure_s) - start)))
        need_rows.append((terms, f.energy_wh))

    a_ub: list[list[float]] = []
    b_ub: list[float] = []
    for columns, cap in rows_cap:
        row = [0.0] * n
        for i in columns:
            row[i] = 1.0
        a_ub.append(row)
        b_ub.append(cap)
    for terms, energy in need_rows:
        row = [0.0] * n
        for i, wh in terms:
            row[i] = -wh
        a_ub.append(row)
        b_ub.append(-energy)
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=list(zip(lower, upper, strict=True)),
        integrality=integrality,
        method="highs",
        options={"time_limit": SOLVER_SECONDS},
    )
    if result.status != 0 or result.x is None:
        return {}  # infeasible (a need that does not fit), or no answer in time
    out: dict[str, tuple[tuple[float, float], ...]] = {}
    for k in flex_keys:
        periods: list[tuple[float, float]] = []
        for t, start in enumerate(starts):
            limit = alloc.floor_step(float(result.x[var[(k, t)]]))
            if not periods or periods[-1][1] != limit:
                periods.append((float(start), limit))
        # After the last departure, the equal-share plan's periods again.
        shared = by_key[k].periods
        after = [(end, _limit_at(shared, end))] + [(s, v) for s, v in shared if s > end]
        for start, limit in after:
            if periods[-1][1] != limit:
                periods.append((float(start), limit))
        out[k] = tuple(periods)
    return out


def tariff_prices(
    tariff, now: datetime, zone: tzinfo, *, span: float = LONGEST, step: float = 900.0
) -> list[PricePeriod]:
    """The energy price per kWh over the next `span` seconds of an OCPI tariff
    (`billing.pricing.Tariff`) whose elements differ by time of day or weekday, sampled every
    `step` seconds and merged; empty for a tariff without an energy price. Restrictions on
    energy, duration, current or power are not known ahead and count as not met."""
    from billing.pricing import DAYS, RESTRICTION_FIELDS, _in_band

    # What a session has not done yet when its hours are planned.
    timed = {"start_time", "end_time", "start_date", "end_date", "day_of_week"}
    NOT_KNOWN_AHEAD = [name for name in RESTRICTION_FIELDS if name not in timed]

    prices: list[PricePeriod] = []
    # Sampled at whole steps of the clock, not of `now`: the periods of one run and the next
    # then begin at the same moments, and a schedule sent is not sent again for nothing.
    first = now - timedelta(seconds=now.timestamp() % step)
    for index in range(math.ceil(span / step) + 1):
        moment = first + timedelta(seconds=index * step)
        at = moment.astimezone(zone)
        price = None
        for element in tariff.elements:
            energy = [c for c in element.price_components if c.type == "ENERGY"]
            r = element.restrictions
            if not energy:
                continue
            if r is not None:
                timed_only = all(getattr(r, name) is None for name in NOT_KNOWN_AHEAD)
                if not timed_only:
                    continue
                if r.day_of_week and DAYS[at.weekday()] not in r.day_of_week:
                    continue
                if r.start_date is not None and at.date() < r.start_date:
                    continue
                if r.end_date is not None and at.date() >= r.end_date:
                    continue
                if not _in_band(time(at.hour, at.minute), r.start_time, r.end_time):
                    continue
            price = float(energy[0].price)
            break
        if price is None:
            return []
        if not prices or prices[-1].price != price:
            prices.append(PricePeriod(max(0.0, (moment - now).total_seconds()), price))
    return prices
