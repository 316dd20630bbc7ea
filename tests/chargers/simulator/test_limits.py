"""How the simulator composes the profiles it holds into one limit, as a charger does: a
session's TxProfile replaces the default, the charger's maximum caps both."""

import itertools
from datetime import UTC, datetime

import pytest

from chargers.simulator.limits import Limits, parse_profile
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES

WALL = datetime(2026, 12, 6, 12, tzinfo=UTC)
AMPERE = NOMINAL_VOLTAGE * PHASES  # W per A on three phases
# Distinct ids unless a test means to replace a profile (a charger replaces one of the same id).
PROFILE_IDS = itertools.count(1)


def profile(purpose, limit, connector_id=0, stack_level=0, profile_id=None, periods=None):
    data = {
        "charging_profile_id": profile_id or next(PROFILE_IDS),
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Absolute",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": periods or [{"start_period": 0, "limit": limit}],
        },
    }
    return parse_profile(data, connector_id, now=0.0, wall=WALL)


def holding(*profiles):
    limits = Limits()
    for p in profiles:
        limits.install(p)
    return limits


def test_a_session_limit_above_the_default_replaces_it():
    limits = holding(profile("TxDefaultProfile", 6.0), profile("TxProfile", 16.0, 1))
    assert limits.cap_w(1, 1.0) == pytest.approx(16 * AMPERE)
    assert limits.cap_w(2, 1.0) == pytest.approx(6 * AMPERE)


def test_the_charger_maximum_caps_a_session_limit():
    limits = holding(profile("ChargePointMaxProfile", 10.0), profile("TxProfile", 16.0, 1))
    assert limits.cap_w(1, 1.0) == pytest.approx(10 * AMPERE)


def test_a_connector_default_goes_before_the_charger_default_and_higher_stack_levels_win():
    limits = holding(
        profile("TxDefaultProfile", 6.0),
        profile("TxDefaultProfile", 20.0, 1),
        profile("TxDefaultProfile", 8.0, 2, stack_level=0),
        profile("TxDefaultProfile", 12.0, 2, stack_level=1),
    )
    assert limits.cap_w(1, 1.0) == pytest.approx(20 * AMPERE)
    assert limits.cap_w(2, 1.0) == pytest.approx(12 * AMPERE)


def test_the_default_applies_again_when_the_session_ends():
    limits = holding(profile("TxDefaultProfile", 6.0), profile("TxProfile", 16.0, 1))
    limits.end_transaction(1)
    assert limits.cap_w(1, 1.0) == pytest.approx(6 * AMPERE)


def test_a_schedule_moves_to_its_next_period_on_time():
    periods = [{"start_period": 0, "limit": 16.0}, {"start_period": 600, "limit": 8.0}]
    limits = holding(profile("TxProfile", 0, 1, periods=periods))
    assert limits.cap_w(1, 599.0) == pytest.approx(16 * AMPERE)
    assert limits.cap_w(1, 601.0) == pytest.approx(8 * AMPERE)
