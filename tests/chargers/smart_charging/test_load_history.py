"""The load chart's reads: meter samples and plans at known times come out as the expected
per-phase figures per interval, summed in the database."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from chargers.models import Charger, ChargingSession, MeterSample, SessionState
from chargers.smart_charging import selectors, series
from chargers.smart_charging.models import (
    ChargerElectrical,
    GridLimitWindow,
    LimitSignal,
    LoadPlan,
    SiteElectrical,
)
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.factories import meter_sample

NOW = datetime(2026, 3, 2, 12, 2, 30, tzinfo=UTC)
HOUR = series.WINDOWS["1h"]  # one-minute intervals from 11:03 to 12:02 (UTC)
CURRENT, POWER = "Current.Import", "Power.Active.Import"


def at(hour, minute, second=0):
    return datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC)


def minutes(first, last, value):
    """{(hour, minute): value} for each minute from `first` to `last`, both included."""
    start, end = at(*first), at(*last)
    out = {}
    while start <= end:
        out[(start.hour, start.minute)] = value
        start += timedelta(minutes=1)
    return out


def expected(*parts, default=0.0):
    """One value per interval of the window, from `minutes` parts (later parts win)."""
    values = {}
    for part in parts:
        values.update(part)
    buckets = series.Buckets.ending(NOW, HOUR.span, HOUR.size)
    return [values.get((s.hour, s.minute), default) for s in buckets.starts()]


def session(charger, started, stopped=None, transaction="1"):
    return ChargingSession.objects.create(
        charger=charger,
        site=charger.site,
        evse_id=1,
        connector_id=1,
        transaction_id=transaction,
        started_at=started,
        stopped_at=stopped,
        state=SessionState.COMPLETED if stopped else SessionState.ACTIVE,
    )


def samples(charger, of, moment, *values):
    """`values` as (measurand, phase, value, unit) samples of session `of` at `moment`."""
    MeterSample.objects.bulk_create(
        meter_sample(charger, moment, value, measurand, session=of, phase=phase, unit=unit)
        for measurand, phase, value, unit in values
    )


@pytest.fixture
def site(tenant_a, site_a):
    """Mall A (Berlin) with a 32 A grid connection, an evening limit of 16 A from 12:10 to
    12:20 local (11:10 to 11:20 UTC) and a DSO signal of 20 A from 11:50 to 12:00 UTC, and
    three chargers that report their draw in different ways."""
    with scoping.scope(tenant_a):
        Site.objects.filter(pk=site_a.pk).update(timezone="Europe/Berlin")
        site_a.refresh_from_db()
        SiteElectrical.objects.create(site=site_a, grid_limit_a=Decimal("32"))
        GridLimitWindow.objects.create(
            site=site_a, starts=time(12, 10), ends=time(12, 20), limit_a=Decimal("16")
        )
        LimitSignal.objects.create(
            site=site_a, limit_a=Decimal("20"), starts_at=at(11, 50), expires_at=at(12, 0)
        )
        # Currents per phase and power: the currents count, the power is not added to them.
        three = Charger.objects.create(identity="CP-CURRENTS", site=site_a)
        one = session(three, at(11, 45))
        samples(
            three, one, at(11, 50, 10),
            (CURRENT, "L1", 10, "A"), (CURRENT, "L2", 11, "A"), (CURRENT, "L3", 12, "A"),
            (POWER, "", 7500, "W"), ("Voltage", "L1", 230, "V"),
        )  # fmt: skip
        samples(
            three, one, at(11, 55, 10),
            (CURRENT, "L1", 16, "A"), (CURRENT, "L2", 16, "A"), (CURRENT, "L3", 16, "A"),
            (POWER, "", 11000, "W"),
        )  # fmt: skip
        # Power only, single phase on the site's L2; the session stops at 11:57:30.
        single = Charger.objects.create(identity="CP-SINGLE", site=site_a)
        ChargerElectrical.objects.create(charger=single, phases="L2")
        two = session(single, at(11, 51), stopped=at(11, 57, 30), transaction="2")
        samples(single, two, at(11, 52), (POWER, "", 2300, "W"))
        # Power only, in kW, three phases: one reading before the window, which holds into it
        # for 15 minutes, and one at 11:40 that holds until 11:55.
        kilowatts = Charger.objects.create(identity="CP-KW", site=site_a)
        three_phase = session(kilowatts, at(10, 50), transaction="3")
        samples(kilowatts, three_phase, at(10, 55), (POWER, "", Decimal("3.45"), "kW"))
        samples(kilowatts, three_phase, at(11, 40), (POWER, "", Decimal("6.9"), "kW"))
        # Another site's charger counts nowhere here.
        elsewhere = Charger.objects.create(
            identity="CP-ELSEWHERE", site=Site.objects.create(name="Depot B")
        )
        samples(elsewhere, session(elsewhere, at(11, 0)), at(11, 30), (CURRENT, "L1", 99, "A"))
    return site_a


def plan(site, computed_at, load=None, same_as=None):
    grid = {phase: load for phase in ("L1", "L2", "L3")}
    return LoadPlan.objects.create(
        site=site,
        computed_at=computed_at,
        trigger="test",
        inputs={"now": computed_at.isoformat()} if same_as else {"load": {"grid": grid}},
        same_as=same_as,
    )


def test_the_measured_current_sums_each_sessions_readings_per_phase(tenant_a, site):
    with scoping.scope(tenant_a):
        chart = selectors.load_chart(site, HOUR, NOW)
    before = minutes((11, 3), (11, 9), 5.0)  # 3.45 kW read at 10:55, held 15 minutes
    kilowatts = minutes((11, 40), (11, 54), 10.0)  # 6.9 kW on three phases
    assert chart["measured_L1"] == expected(
        before, kilowatts, minutes((11, 50), (11, 54), 20.0), minutes((11, 55), (12, 2), 16.0)
    )
    assert chart["measured_L2"] == expected(
        before,
        kilowatts,
        minutes((11, 50), (11, 51), 21.0),
        minutes((11, 52), (11, 54), 31.0),  # 2.3 kW on L2 alone: 10 A
        minutes((11, 55), (11, 57), 26.0),  # until the session stops
        minutes((11, 58), (12, 2), 16.0),
    )
    assert chart["measured_L3"] == expected(
        before, kilowatts, minutes((11, 50), (11, 54), 22.0), minutes((11, 55), (12, 2), 16.0)
    )
    assert chart["labels"][0] == "12:03" and chart["labels"][-1] == "13:02"  # Berlin


def test_the_planned_current_is_the_plan_in_force_at_each_intervals_end(tenant_a, site):
    with scoping.scope(tenant_a):
        plan(site, at(10, 30), 20.0)  # before the window: in force at its start
        first = plan(site, at(11, 20, 30), 30.0)
        plan(site, at(11, 20, 50), 25.0)  # the same minute's last plan is the one shown
        plan(site, at(11, 45), same_as=first)  # a run that repeated the first plan
        chart = selectors.load_chart(site, HOUR, NOW)
    planned = expected(
        minutes((11, 3), (11, 19), 20.0),
        minutes((11, 20), (11, 44), 25.0),
        minutes((11, 45), (12, 2), 30.0),
    )
    assert chart["planned_L1"] == chart["planned_L2"] == chart["planned_L3"] == planned


def test_no_plan_before_the_first_one_is_none(tenant_a, site):
    with scoping.scope(tenant_a):
        plan(site, at(11, 30, 5), 12.5)
        chart = selectors.load_chart(site, HOUR, NOW)
    assert chart["planned_L1"] == expected(minutes((11, 30), (12, 2), 12.5), default=None)


def test_the_limit_follows_the_static_limit_the_schedule_and_the_signal(tenant_a, site):
    with scoping.scope(tenant_a):
        chart = selectors.load_chart(site, HOUR, NOW)
    assert chart["limit"] == expected(
        minutes((11, 10), (11, 19), 16.0), minutes((11, 50), (11, 59), 20.0), default=32.0
    )


def test_a_site_without_a_grid_connection_has_no_limit_line(tenant_a, site):
    with scoping.scope(tenant_a):
        SiteElectrical.objects.filter(site=site).delete()
        chart = selectors.load_chart(site, HOUR, NOW)
    assert chart["limit"] == [None] * 60


def test_the_number_of_queries_does_not_grow_with_sessions_or_samples(
    tenant_a, site, django_assert_num_queries
):
    with scoping.scope(tenant_a):
        plan(site, at(10, 0), 10.0)
    with scoping.scope(tenant_a), django_assert_num_queries(8):
        selectors.load_chart(site, series.WINDOWS["24h"], NOW)
    with scoping.scope(tenant_a):
        for n in range(20):
            charger = Charger.objects.create(identity=f"CP-MORE-{n}", site=site)
            of = session(charger, at(11, 0), transaction=str(100 + n))
            for minute in range(60):
                samples(charger, of, at(11, minute), (POWER, "", 11000, "W"))
            plan(site, at(11, n), 10.0)
    with scoping.scope(tenant_a), django_assert_num_queries(8):
        chart = selectors.load_chart(site, series.WINDOWS["24h"], NOW)
    # The 11:45 interval (of 15 minutes): 20 sessions at 11 kW on three phases, and
    # CP-CURRENTS' two readings there (10 A and 16 A on L1), averaged.
    assert chart["measured_L1"][-2] == round(20 * 11000 / 690 + 13, 1)


def test_what_the_sessions_below_each_node_draw_now(tenant_a, site):
    with scoping.scope(tenant_a):
        board = selectors.Circuit.objects.create(site=site, name="Board", limit_a=Decimal("40"))
        bay = selectors.Circuit.objects.create(
            site=site, name="Bay", limit_a=Decimal("20"), parent=board
        )
        ChargerElectrical.objects.create(
            charger=Charger.objects.get(identity="CP-CURRENTS"), circuit=bay
        )
        draws = selectors.node_draws(site, [board, bay], at(11, 56, 30))
    # CP-CURRENTS' 16 A on its bay, and so on the board; CP-SINGLE's 10 A on L2 at the grid
    # connection only; CP-KW's reading of 11:40 is older than 15 minutes and counts no more.
    assert draws[selectors.node_id(bay.pk)] == {"L1": 16.0, "L2": 16.0, "L3": 16.0}
    assert draws[selectors.node_id(board.pk)] == {"L1": 16.0, "L2": 16.0, "L3": 16.0}
    assert draws["grid"] == {"L1": 16.0, "L2": 26.0, "L3": 16.0}
