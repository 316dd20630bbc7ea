"""Schedules held against each other: an EV's chosen schedule is within the limits sent when
no period of it asks for more, wherever both are in force (table-driven)."""

from datetime import UTC, datetime, timedelta

import pytest

from chargers.smart_charging.schedules import Period, Schedule, excess, in_force, points_of

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def amps(*periods, start=T0, duration=None):
    return Schedule("A", tuple(Period(*p) for p in periods), start=start, duration_s=duration)


def watts(*periods, duration=None):
    return Schedule("W", tuple(Period(*p) for p in periods), duration_s=duration)


@pytest.mark.parametrize(
    ("ev", "ev_start", "limits", "over"),
    [
        # The limit echoed back is within it.
        (amps((0, 16.0)), T0, amps((0, 16.0)), ""),
        # 11 kW on three phases is 15.9 A: within 16 A.
        (watts((0, 11000.0)), T0, amps((0, 16.0)), ""),
        # 22 kW is 31.9 A: over.
        (watts((0, 22000.0)), T0, amps((0, 16.0)), "from 0 s: 22000 W (31.9 A) is over the 16.0 A"),
        # 7.4 kW on one phase is 32.2 A: over 16 A, though within it on three phases.
        (watts((0, 7400.0, 1)), T0, amps((0, 16.0)), "(32.2 A) is over the 16.0 A"),
        # The evening limit binds the EV's second period only.
        (amps((0, 16.0), (3600, 16.0)), T0, amps((0, 16.0), (1800, 10.0)), "from 0 s: 16"),
        (amps((0, 16.0), (1800, 10.0)), T0, amps((0, 16.0), (1800, 10.0)), ""),
        # Rounding of a limit's decimal is no excess.
        (amps((0, 16.05)), T0, amps((0, 16.0)), ""),
        # Before the limits start, nothing binds the EV (a charger's clock a little behind).
        (amps((0, 32.0), (10, 16.0)), T0 - timedelta(seconds=10), amps((0, 16.0)), ""),
        # After they end, neither.
        (amps((0, 16.0), (600, 32.0)), T0, amps((0, 16.0), duration=600), ""),
        (amps((0, 16.0), (599, 32.0)), T0, amps((0, 16.0), duration=600), "from 599 s"),
    ],
)
def test_an_ev_schedule_is_within_the_limits_period_by_period(ev, ev_start, limits, over):
    found = excess(ev, ev_start, limits, limits.start)
    assert (found == "") if not over else (over in found)


def test_a_schedule_reads_from_now_on_the_same_whatever_its_unit_or_start():
    sent = amps((0, 16.0), (3600, 10.0), start=T0)
    held = Schedule(
        "W", (Period(0, 16 * 690.0), Period(3000, 10 * 690.0)), start=T0 + timedelta(seconds=600)
    )
    now = T0 + timedelta(minutes=20)
    assert in_force(points_of(sent, T0), now) == [
        ("now", 16.0),
        ((T0 + timedelta(hours=1)).isoformat(), 10.0),
    ]
    assert in_force(points_of(held, held.start), now) == in_force(points_of(sent, T0), now)


def test_a_schedule_survives_its_json_form():
    schedule = Schedule("W", (Period(0, 7400.0, 1), Period(900, 3700.0)), start=T0, duration_s=3600)
    assert Schedule.from_json(schedule.as_json()) == schedule


def test_a_schedule_is_cut_to_the_tuples_an_ev_takes_never_above_the_original():
    from chargers.smart_charging.schedules import at_most

    periods = ((0.0, 16.0), (600.0, 15.5), (1200.0, 6.0), (1800.0, 32.0))
    assert at_most(periods, 4) == periods
    assert at_most(periods, 3) == ((0.0, 15.5), (1200.0, 6.0), (1800.0, 32.0))
    assert at_most(periods, 1) == ((0.0, 6.0),)
