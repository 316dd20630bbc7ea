"""Payload validation: the compiled fast path and the precise slow path agree."""

import pytest

from chargers.ocpp.frames import CALL, CALLRESULT
from chargers.ocpp.schemas import schema_problem
from tests.chargers.payloads import profile_16


def profile(limit):
    return {"connectorId": 1, "csChargingProfiles": profile_16(limit)}


def test_a_limit_of_one_decimal_passes_although_floats_cannot_represent_it():
    assert schema_problem("1.6", CALL, "SetChargingProfile", profile(21.4)) is None


def test_a_limit_with_two_decimals_is_named_as_the_problem():
    problem, description = schema_problem("1.6", CALL, "SetChargingProfile", profile(21.45))
    assert problem == "property" and "chargingSchedulePeriod/0/limit" in description


@pytest.mark.parametrize(
    "version,message_type,action,payload,expected",
    [
        ("1.6", CALL, "Heartbeat", {}, None),
        ("1.6", CALL, "Authorize", {}, "occurrence"),
        ("1.6", CALLRESULT, "Reset", {"status": "Maybe"}, "property"),
        ("2.0.1", CALL, "Heartbeat", {"extra": 1}, "format"),
        ("2.0.1", CALLRESULT, "GetVariables", {"getVariableResult": "x"}, "type"),
        (
            "2.1",
            CALL,
            "BootNotification",
            {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
            None,
        ),
    ],
)
def test_problems_are_classified_per_schema_keyword(
    version, message_type, action, payload, expected
):
    result = schema_problem(version, message_type, action, payload)
    assert (result[0] if result else None) == expected
