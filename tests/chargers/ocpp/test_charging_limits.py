"""Charging limits in each version's words: SetChargingProfile requests valid against the
version's schema, and the replies read back."""

from datetime import UTC, datetime

import pytest

from chargers.models import Charger
from chargers.ocpp import builders
from chargers.ocpp.readers import charging_profile_accepted
from chargers.ocpp.schemas import request_problem

STARTS = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)


def charger(version):
    return Charger(identity="CP-1", ocpp_version=version)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("kind", ["session", "fallback", "charger_max"])
def test_each_kind_of_limit_is_a_valid_request_in_each_version(version, kind):
    request = builders.charging_limit(
        charger(version),
        kind=kind,
        evse_id=1 if kind == "session" else 0,
        profile_id=14001,
        starts=STARTS,
        periods=[(0, 16.0), (1800, 6.55)],
        phases=1,
        transaction_id="42",
    )
    assert request.action == "SetChargingProfile"
    assert request_problem(version, request.action, request.payload) is None


def test_a_16_session_limit_is_a_tx_profile_of_its_transaction():
    request = builders.charging_limit(
        charger("1.6"),
        kind="session",
        evse_id=2,
        profile_id=14002,
        starts=STARTS,
        periods=[(0, 10.0)],
        transaction_id="42",
    )
    assert request.payload == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 14002,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "startSchedule": "2026-12-06T16:30:00Z",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            },
            "transactionId": 42,
        },
    }


def test_a_201_fallback_is_a_default_profile_for_every_evse():
    request = builders.charging_limit(
        charger("2.0.1"),
        kind="fallback",
        evse_id=0,
        profile_id=14000,
        starts=STARTS,
        periods=[(0, 5.3)],
    )
    profile = request.payload["chargingProfile"]
    assert request.payload["evseId"] == 0
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 5.3}
    ]
    assert "transactionId" not in profile


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "boost"}, "kind"),
        ({"periods": [(60, 10.0)]}, "periods"),
        ({"transaction_id": ""}, "transaction"),
        ({"transaction_id": "abc"}, "1.6 transaction"),
    ],
)
def test_a_limit_that_cannot_be_said_is_refused(arguments, message):
    values = {"kind": "session", "evse_id": 1, "periods": [(0, 10.0)], "transaction_id": "7"}
    values.update(arguments)
    with pytest.raises(builders.ActionError, match=message):
        builders.charging_limit(charger("1.6"), profile_id=1, starts=STARTS, **values)


@pytest.mark.parametrize(
    ("reply", "accepted"),
    [({"status": "Accepted"}, True), ({"status": "Rejected"}, False), (None, False)],
)
def test_the_reply_says_whether_the_limit_was_taken(reply, accepted):
    assert charging_profile_accepted(reply) is accepted
