"""A session's periods from its meter readings and status history."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.periods import (
    Reading,
    StatusChange,
    register_readings,
    session_periods,
    summed_currents,
)

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def shape(periods):
    return [
        (
            int((p.start - T0).total_seconds() // 60),
            int((p.end - T0).total_seconds() // 60),
            str(p.energy_wh),
            p.charging,
        )
        for p in periods
    ]


def test_energy_flows_between_readings_and_stops_when_the_register_does():
    readings = [
        Reading(at(0), Decimal(1000)),
        Reading(at(30), Decimal(6000)),
        Reading(at(60), Decimal(6000)),
    ]

    periods = session_periods(start=at(0), end=at(60), readings=readings)

    assert shape(periods) == [(0, 30, "5000", True), (30, 60, "0", False)]


def test_a_suspended_stretch_gets_no_energy():
    readings = [Reading(at(0), Decimal(0)), Reading(at(60), Decimal(4000))]
    statuses = [
        StatusChange(at(0), "Charging"),
        StatusChange(at(20), "SuspendedEV"),
        StatusChange(at(40), "Charging"),
    ]

    periods = session_periods(start=at(0), end=at(60), readings=readings, statuses=statuses)

    assert shape(periods) == [(0, 20, "2000", True), (20, 40, "0", False), (40, 60, "2000", True)]


def test_energy_wins_over_a_status_that_says_suspended():
    readings = [Reading(at(0), Decimal(0)), Reading(at(60), Decimal(4000))]

    periods = session_periods(
        start=at(0), end=at(60), readings=readings, statuses=[StatusChange(at(0), "SuspendedEV")]
    )

    assert shape(periods) == [(0, 60, "4000", True)]


def test_without_readings_the_total_spreads_over_the_session():
    periods = session_periods(start=at(0), end=at(90), readings=[], energy_wh=Decimal(9000))

    assert shape(periods) == [(0, 90, "9000", True)]


def test_a_session_without_energy_is_all_parking():
    periods = session_periods(start=at(0), end=at(45), readings=[])

    assert shape(periods) == [(0, 45, "0", False)]


def test_idle_stretches_merge_into_one_parking_period():
    readings = [Reading(at(m), Decimal(3000)) for m in range(0, 61, 10)]
    readings[0] = Reading(at(0), Decimal(0))

    periods = session_periods(start=at(0), end=at(60), readings=readings)

    assert shape(periods) == [(0, 10, "3000", True), (10, 60, "0", False)]


def test_a_register_going_backwards_counts_nothing():
    readings = [
        Reading(at(0), Decimal(5000)),
        Reading(at(30), Decimal(100)),
        Reading(at(60), Decimal(1100)),
    ]

    periods = session_periods(start=at(0), end=at(60), readings=readings)

    assert shape(periods) == [(0, 30, "0", False), (30, 60, "1000", True)]


def test_readings_missing_at_the_ends_are_completed_with_the_total():
    readings = [Reading(at(10), Decimal(500)), Reading(at(20), Decimal(1500))]

    periods = session_periods(start=at(0), end=at(30), readings=readings, energy_wh=Decimal(2000))

    assert shape(periods) == [(0, 10, "0", False), (10, 20, "1000", True), (20, 30, "1000", True)]


def test_a_session_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        session_periods(start=at(10), end=at(0), readings=[])


def test_samples_give_register_readings_and_currents():
    rows = [
        (at(0), "Energy.Active.Import.Register", "", "kWh", Decimal("1.5")),
        (at(0), "Energy.Active.Import.Register", "L1", "Wh", Decimal("500")),
        (at(0), "Current.Import", "L1", "A", Decimal(16)),
        (at(0), "Current.Import", "L2", "A", Decimal(15)),
        (at(5), "Current.Import", "", "A", Decimal(30)),
    ]

    assert register_readings(rows) == [Reading(at(0), Decimal("1500.0"))]
    assert summed_currents(rows) == [(at(0), Decimal(31)), (at(5), Decimal(30))]


def test_each_charging_period_takes_its_highest_current():
    readings = [Reading(at(0), Decimal(0)), Reading(at(60), Decimal(6000))]

    periods = session_periods(
        start=at(0),
        end=at(60),
        readings=readings,
        currents=[(at(1), Decimal(20)), (at(30), Decimal(32))],
    )

    assert periods[0].current_a == Decimal(32)
