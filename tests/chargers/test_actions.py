"""Version-neutral operator actions produce payloads each version's schema accepts."""

import pytest

from chargers import actions
from chargers.models import Charger
from chargers.ocpp.errors import CALL, schema_problem

BUILDERS = [
    (actions.remote_start, {"id_tag": "04A1B2C3D4", "evse_id": 1}),
    (actions.remote_stop, {"transaction_id": "42"}),
    (actions.reset, {"hard": True}),
    (actions.reset, {"hard": False}),
    (actions.unlock, {"evse_id": 2}),
    (actions.set_availability, {"operative": False}),
    (actions.set_availability, {"operative": True, "evse_id": 1}),
    (actions.trigger, {"message": "StatusNotification", "evse_id": 1}),
    (actions.trigger, {"message": "DiagnosticsStatusNotification"}),
    (actions.clear_cache, {}),
    (actions.get_diagnostics, {"location": "https://logs.example/upload"}),
    (actions.get_configuration, {}),
    (actions.get_configuration, {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]}),
    (actions.change_configuration, {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"}),
    (actions.change_password, {"password": "a-new-password-0123"}),
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
        (actions.remote_start, {"id_tag": ""}, "id token is required"),
        (actions.unlock, {"evse_id": 0}, "numbered from 1"),
        (actions.trigger, {"message": "Coffee"}, "Choose one of"),
        (actions.get_diagnostics, {"location": "file:///etc/passwd"}, "http"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(builder, arguments, message):
    with pytest.raises(actions.ActionError, match=message):
        builder(Charger(ocpp_version="1.6"), **arguments)


def test_a_16_transaction_id_must_be_a_number():
    with pytest.raises(actions.ActionError, match="not a 1.6 transaction id"):
        actions.remote_stop(Charger(ocpp_version="1.6"), transaction_id="abc-uuid")
