"""Cheaper hours: the linear program that moves flexible sessions' charging into cheaper
periods, within every node's limit per phase and period, with the equal share as fallback."""

from datetime import UTC, datetime, time
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.pricing import Element, PriceComponent, Restrictions, Tariff
from chargers.smart_charging import allocation as alloc
from chargers.smart_charging.cheaper import (
    VOLTAGE,
    Flexible,
    PricePeriod,
    cheaper_periods,
    tariff_prices,
)

HOUR = 3600.0
# Dear for two hours, then cheap.
NIGHT = [PricePeriod(0, 0.40), PricePeriod(2 * HOUR, 0.10)]


def site(n=2, limit=32.0, circuit=None):
    nodes = [alloc.Node("grid", "grid", limit)]
    if circuit is not None:
        nodes.append(alloc.Node("c1", "circuit", circuit, parent="grid"))
    connectors = [alloc.Connector(f"k{i}", "c1" if circuit else "grid") for i in range(n)]
    sessions = [alloc.Session(f"k{i}", session_id=i + 1) for i in range(n)]
    return alloc.Problem(nodes, connectors, sessions)


def limit_at(periods, offset):
    limit = periods[0][1]
    for start, value in periods:
        if start <= offset:
            limit = value
    return limit


def energy_wh(periods, until, phases=3):
    """What a schedule gives an EV before `until` (Wh)."""
    edges = [start for start, _ in periods if start < until] + [until]
    return sum(
        limit_at(periods, a) * VOLTAGE * phases * (b - a) / HOUR
        for a, b in zip(edges, edges[1:], strict=False)
    )


def test_a_flexible_session_charges_in_the_cheaper_hours():
    problem = site()
    plan = alloc.allocate(problem)
    moved = cheaper_periods(problem, plan, NIGHT, [Flexible("k0", 20_000, 6 * HOUR)])
    assert set(moved) == {"k0"}
    periods = moved["k0"]
    assert periods[0] == (0.0, 0.0)  # waits while energy is dear
    assert limit_at(periods, 2 * HOUR) > 0
    assert energy_wh(periods, 6 * HOUR) >= 20_000 * 0.99


def test_a_need_that_only_fits_with_dear_hours_uses_them_too():
    problem = site()
    plan = alloc.allocate(problem)
    # 16 A on three phases is 11 kWh an hour: 40 kWh by 4 hours needs the dear ones as well.
    moved = cheaper_periods(problem, plan, NIGHT, [Flexible("k0", 40_000, 4 * HOUR)])
    assert limit_at(moved["k0"], 0) > 0
    assert energy_wh(moved["k0"], 4 * HOUR) >= 40_000 * 0.99


def test_a_need_that_cannot_be_met_keeps_the_equal_share():
    problem = site()
    plan = alloc.allocate(problem)
    assert cheaper_periods(problem, plan, NIGHT, [Flexible("k0", 500_000, 4 * HOUR)]) == {}


def test_without_a_price_difference_or_prices_the_equal_share_stands():
    problem = site()
    plan = alloc.allocate(problem)
    flat = [PricePeriod(0, 0.3), PricePeriod(HOUR, 0.3)]
    assert cheaper_periods(problem, plan, flat, [Flexible("k0", 10_000, 6 * HOUR)]) == {}
    assert cheaper_periods(problem, plan, [], [Flexible("k0", 10_000, 6 * HOUR)]) == {}


def test_a_solver_failure_keeps_the_equal_share():
    problem = site()
    plan = alloc.allocate(problem)
    with mock.patch("scipy.optimize.linprog", side_effect=RuntimeError("HiGHS crashed")):
        assert cheaper_periods(problem, plan, NIGHT, [Flexible("k0", 10_000, 6 * HOUR)]) == {}


def test_a_lower_limit_later_is_respected():
    shape = site(n=1)
    evening = [alloc.LimitChange(2 * HOUR, {"grid": 10.0})]
    problem = alloc.Problem(shape.nodes, shape.connectors, shape.sessions, changes=evening)
    plan = alloc.allocate(problem)
    moved = cheaper_periods(problem, plan, NIGHT, [Flexible("k0", 20_000, 8 * HOUR)])
    assert all(limit <= 10.0 for start, limit in moved["k0"] if start >= 2 * HOUR)
    assert energy_wh(moved["k0"], 8 * HOUR) >= 20_000 * 0.99


def test_tariff_time_bands_become_price_periods():
    day = Element(
        (PriceComponent("ENERGY", Decimal("0.40")),),
        Restrictions(start_time=time(7), end_time=time(22)),
    )
    night = Element((PriceComponent("ENERGY", Decimal("0.15")),))
    tariff = Tariff("EUR", (day, night))
    now = datetime(2026, 12, 7, 19, 50, tzinfo=UTC)  # 20:50 in Berlin
    prices = tariff_prices(tariff, now, ZoneInfo("Europe/Berlin"), span=4 * HOUR)
    assert prices == [PricePeriod(0.0, 0.40), PricePeriod(4200.0, 0.15)]  # from 22:00


def test_a_tariff_without_an_energy_price_gives_no_prices():
    tariff = Tariff("EUR", (Element((PriceComponent("TIME", Decimal("2")),)),))
    assert tariff_prices(tariff, datetime(2026, 12, 7, tzinfo=UTC), ZoneInfo("UTC")) == []


# --- properties ------------------------------------------------------------------------------

problems = st.fixed_dictionaries(
    {
        "n": st.integers(1, 5),
        "grid": st.floats(6, 80),
        "circuit": st.one_of(st.none(), st.floats(6, 60)),
        "prices": st.lists(st.floats(0.05, 0.6), min_size=2, max_size=4),
        "needs": st.lists(st.tuples(st.floats(1_000, 60_000), st.floats(0.5, 10)), max_size=5),
        "drop": st.one_of(st.none(), st.tuples(st.floats(0.5, 8), st.floats(0, 40))),
    }
)


@settings(max_examples=60, deadline=None)
@given(problems)
def test_no_period_is_ever_above_a_limit_and_needs_are_met(case):
    changes = []
    if case["drop"] is not None:
        changes = [alloc.LimitChange(case["drop"][0] * HOUR, {"grid": case["drop"][1]})]
    shape = site(case["n"], case["grid"], case["circuit"])
    problem = alloc.Problem(shape.nodes, shape.connectors, shape.sessions, changes=changes)
    plan = alloc.allocate(problem)
    prices = [PricePeriod(i * 2 * HOUR, p) for i, p in enumerate(case["prices"])]
    flexible = [
        Flexible(f"k{i}", energy, hours * HOUR)
        for i, (energy, hours) in enumerate(case["needs"][: case["n"]])
    ]
    moved = cheaper_periods(problem, plan, prices, flexible)
    periods = {a.connector: moved.get(a.connector, a.periods) for a in plan.allocations}
    edges = {start for p in periods.values() for start, _ in p} | {c.offset_s for c in changes}
    for at in sorted(edges):
        grid = case["grid"]
        for change in changes:
            if change.offset_s <= at:
                grid = change.limits["grid"]
        limit = grid if case["circuit"] is None else min(grid, case["circuit"])
        # Every connector draws on all three phases of every node: one sum per node phase.
        assert sum(limit_at(p, at) for p in periods.values()) <= limit + 1e-6
    for f in flexible:
        if f.connector in moved:
            assert energy_wh(moved[f.connector], f.departure_s) >= f.energy_wh * 0.98


@settings(max_examples=40, deadline=None)
@given(st.floats(1_000, 15_000), st.floats(4, 10))
def test_a_flexible_session_never_pays_more_than_its_equal_share(energy, hours):
    problem = site(n=1)
    plan = alloc.allocate(problem)
    flexible = [Flexible("k0", energy, hours * HOUR)]
    moved = cheaper_periods(problem, plan, NIGHT, flexible)
    assert moved  # 32 A for hours fits any of these needs

    def cost(periods):
        cheap_from = 2 * HOUR
        dear = energy_wh(periods, min(cheap_from, hours * HOUR))
        return dear * 0.40

    # Energy bought while it is dear: never more than the equal share would have bought.
    assert cost(moved["k0"]) <= cost(plan.by_connector()["k0"].periods) + 1e-6
