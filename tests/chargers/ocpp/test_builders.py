"""Version-neutral operator actions produce payloads each version's schema accepts."""

from datetime import UTC, datetime

import pytest

from chargers.models import Charger
from chargers.ocpp import builders
from chargers.ocpp.frames import CALL
from chargers.ocpp.schemas import schema_problem

BUILDERS = [
    (builders.remote_start, {"id_tag": "04A1B2C3D4", "evse_id": 1}),
    (builders.remote_stop, {"transaction_id": "42"}),
    (builders.reset, {"hard": True}),
    (builders.reset, {"hard": False}),
    (builders.unlock, {"evse_id": 2}),
    (builders.set_availability, {"operative": False}),
    (builders.set_availability, {"operative": True, "evse_id": 1}),
    (builders.trigger, {"message": "StatusNotification", "evse_id": 1}),
    (builders.trigger, {"message": "DiagnosticsStatusNotification"}),
    (builders.clear_cache, {}),
    (builders.get_diagnostics, {"location": "https://logs.example/upload"}),
    (builders.get_configuration, {}),
    (builders.get_configuration, {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}),
    (builders.change_configuration, {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"}),
    (builders.change_password, {"password": "a-new-password-0123"}),
    (
        builders.reserve,
        {
            "reservation_id": 7,
            "evse_id": 2,
            "id_tag": "04A1B2C3D4",
            "expires_at": datetime(2030, 1, 1, 10, tzinfo=UTC),
            "group_id_tag": "FLEET-GROUP",
        },
    ),
    (
        builders.reserve,
        {
            "reservation_id": 8,
            "evse_id": None,
            "id_tag": "04A1B2C3D4",
            "expires_at": datetime(2030, 1, 1, 10, tzinfo=UTC),
        },
    ),
    (builders.cancel_reservation, {"reservation_id": 7}),
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize(
    "builder,arguments", BUILDERS, ids=[f"{b.__name__}-{i}" for i, (b, _) in enumerate(BUILDERS)]
)
def test_each_action_is_valid_ocpp_for_each_version(version, builder, arguments):
    request = builder(Charger(ocpp_version=version), **arguments)
    assert schema_problem(version, CALL, request.action, request.payload) is None


@pytest.mark.parametrize(
    "builder,arguments,message",
    [
        (builders.remote_start, {"id_tag": ""}, "id token is required"),
        (builders.unlock, {"evse_id": 0}, "numbered from 1"),
        (builders.trigger, {"message": "Coffee"}, "Choose one of"),
        (builders.get_diagnostics, {"location": "file:///etc/passwd"}, "http"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(builder, arguments, message):
    with pytest.raises(builders.ActionError, match=message):
        builder(Charger(ocpp_version="1.6"), **arguments)


def test_a_16_transaction_id_must_be_a_number():
    with pytest.raises(builders.ActionError, match="not a 1.6 transaction id"):
        builders.remote_stop(Charger(ocpp_version="1.6"), transaction_id="abc-uuid")


def test_a_16_charger_is_sent_its_password_hex_encoded_as_the_whitepaper_says():
    request = builders.change_password(Charger(ocpp_version="1.6"), password="a-new-password-0123")
    assert request.payload == {
        "key": "AuthorizationKey",
        "value": "612D6E65772D70617373776F72642D30313233",
    }


def test_a_16_charger_cannot_be_sent_a_password_longer_than_its_key_holds():
    with pytest.raises(ValueError, match="16 to 20"):
        builders.change_password(Charger(ocpp_version="1.6"), password="x" * 21)
