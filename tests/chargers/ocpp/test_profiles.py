"""Smart charging's wire forms read into domain objects, and the requests that ask a charger for
its composite schedule and its profiles, in both versions."""

from datetime import UTC, datetime

import pytest

from chargers.models import Charger
from chargers.ocpp import builders, profiles
from chargers.ocpp.errors import CallRefused
from chargers.ocpp.schemas import request_problem
from chargers.smart_charging.schedules import Period, Schedule

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
V16, V201 = Charger(ocpp_version="1.6"), Charger(ocpp_version="2.0.1")


def test_an_ac_evs_needs_are_read_in_amperes_per_phase():
    evse_id, needs = profiles.ev_needs(
        {
            "evseId": 2,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "departureTime": "2026-12-06T17:30:00Z",
                "acChargingParameters": {
                    "energyAmount": 30000,
                    "evMinCurrent": 6,
                    "evMaxCurrent": 16,
                    "evMaxVoltage": 400,
                },
            },
        }
    )
    assert evse_id == 2
    assert (needs.transfer, needs.energy_wh, needs.min_current_a, needs.max_current_a) == (
        "AC_three_phase",
        30000,
        6,
        16,
    )
    assert needs.departure_at == datetime(2026, 12, 6, 17, 30, tzinfo=UTC)


def test_a_dc_ev_without_a_power_takes_its_current_at_its_voltage():
    _, needs = profiles.ev_needs(
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "DC",
                "dcChargingParameters": {"evMaxCurrent": 125, "evMaxVoltage": 400},
            },
        }
    )
    assert (needs.max_power_w, needs.max_current_a, needs.energy_wh) == (50000.0, None, None)


@pytest.mark.parametrize(
    "payload",
    [
        {"evseId": 0, "chargingNeeds": {"requestedEnergyTransfer": "DC"}},
        {
            "evseId": 1,
            "chargingNeeds": {"requestedEnergyTransfer": "DC", "departureTime": "tomorrow"},
        },
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_single_phase",
                "acChargingParameters": {
                    "energyAmount": 1000,
                    "evMinCurrent": -6,
                    "evMaxCurrent": 16,
                    "evMaxVoltage": 230,
                },
            },
        },
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "DC",
                "dcChargingParameters": {"evMaxCurrent": 2**31 - 1, "evMaxVoltage": 2**31 - 1},
            },
        },
    ],
    ids=["evse 0", "no date", "negative current", "no EV's power"],
)
def test_needs_that_cannot_be_are_a_property_violation(payload):
    with pytest.raises(CallRefused) as refused:
        profiles.ev_needs(payload)
    assert refused.value.problem == "property"


@pytest.mark.parametrize("starts", [[60, 120], [0, 600, 300], [0, 0]])
def test_a_schedule_whose_periods_are_not_in_order_from_0_is_refused(starts):
    wire = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": 1000.0} for s in starts],
    }
    with pytest.raises(CallRefused):
        profiles.schedule_of(wire)


@pytest.mark.parametrize("charger", [V16, V201], ids=["1.6", "2.0.1"])
def test_a_session_limit_sent_reads_back_as_it_was_meant(charger):
    request = builders.charging_limit(
        charger,
        kind="session",
        evse_id=1,
        profile_id=14001,
        starts=T0,
        periods=[(0, 16.0), (3600, 10.0)],
        transaction_id="42",
    )
    limit = profiles.sent_session_limit(request.action, request.payload)
    assert (limit.evse_id, limit.transaction_id) == (1, "42")
    assert limit.schedule == Schedule("A", (Period(0, 16.0), Period(3600, 10.0)), start=T0)
    fallback = builders.charging_limit(
        charger, kind="fallback", evse_id=0, profile_id=14000, starts=T0, periods=[(0, 8.0)]
    )
    assert profiles.sent_session_limit(fallback.action, fallback.payload) is None


def test_a_composite_schedule_is_read_from_either_versions_reply():
    periods = [
        {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
        {"startPeriod": 900, "limit": 7000.0},
    ]
    reply_16 = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-12-06T08:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": periods,
        },
    }
    reply_201 = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": "2026-12-06T08:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": periods,
        },
    }
    expected = Schedule(
        "W", (Period(0, 11000.0, 3), Period(900, 7000.0)), start=T0, duration_s=3600
    )
    for charger, reply in ((V16, reply_16), (V201, reply_201)):
        request = builders.composite_schedule(charger, evse_id=1)
        read = profiles.composite(request.action, request.payload, reply)
        assert (read.evse_id, read.schedule) == (1, expected)
    asked = builders.composite_schedule(V201, evse_id=1)
    assert profiles.composite(asked.action, asked.payload, {"status": "Rejected"}) is None
    assert (
        profiles.composite(asked.action, asked.payload, {"status": "Accepted", "schedule": 3})
        is None
    )


@pytest.mark.parametrize("charger", [V16, V201], ids=["1.6", "2.0.1"])
def test_a_composite_schedule_request_is_valid_in_the_chargers_version(charger):
    request = builders.composite_schedule(charger, evse_id=2, duration_s=600, unit="A")
    assert request_problem(charger.ocpp_version, request.action, request.payload) is None
    with pytest.raises(builders.ActionError):
        builders.composite_schedule(charger, unit="kW")


def test_only_a_201_charger_lists_its_profiles():
    request = builders.charging_profiles(V201, evse_id=1)
    assert request_problem("2.0.1", request.action, request.payload) is None
    assert profiles.profiles_request_id(request.payload) == request.payload["requestId"]
    with pytest.raises(builders.ActionError):
        builders.charging_profiles(V16)
