"""Reading replies and device-model attributes off the wire into domain terms, and back."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargers.models import DeviceModelVariable
from chargers.ocpp import readers
from chargers.ocpp.variables import (
    ATTRIBUTE_TYPES,
    attribute_from_wire,
    attribute_to_wire,
    reported_attributes,
)
from chargers.services.device_model import (
    IDENTITY,
    AttributeId,
    AttributeReport,
    AttributeValue,
)

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
HEARTBEAT_ID = AttributeId(component="OCPPCommCtrlr", variable="HeartbeatInterval")
PASSWORD = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}


def test_the_domain_identity_is_what_the_model_is_unique_by():
    [unique] = [c for c in DeviceModelVariable._meta.constraints if c.name == "variable_unique"]
    assert set(unique.fields) == {"charger", *IDENTITY}


@pytest.mark.parametrize(
    "component,variable,attribute_type,expected",
    [
        ({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}, None, HEARTBEAT_ID),
        (
            {"name": "EVSE", "instance": "a", "evse": {"id": 1, "connectorId": 2}},
            {"name": "Power", "instance": "b"},
            "MaxSet",
            AttributeId("EVSE", "Power", "a", "b", 1, 2, "MaxSet"),
        ),
        (
            {"name": "Connector", "evse": {"id": 3}},
            {"name": "X"},
            "Actual",
            AttributeId("Connector", "X", evse_id=3),
        ),
    ],
)
def test_an_attribute_is_read_from_the_wire(component, variable, attribute_type, expected):
    assert attribute_from_wire(component, variable, attribute_type) == expected


names = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)


@given(
    st.builds(
        AttributeId,
        component=names,
        variable=names,
        component_instance=st.one_of(st.just(""), names),
        variable_instance=st.one_of(st.just(""), names),
        evse_id=st.integers(0, 9),
        connector_id=st.integers(0, 9),
        attribute_type=st.sampled_from(ATTRIBUTE_TYPES),
    ).filter(lambda a: a.evse_id or not a.connector_id)
)
def test_an_attribute_written_to_the_wire_reads_back_the_same(attribute):
    wire = attribute_to_wire(attribute)
    assert (
        attribute_from_wire(wire["component"], wire["variable"], wire.get("attributeType"))
        == attribute
    )


def test_the_label_is_how_operators_read_an_attribute():
    assert HEARTBEAT_ID.label == "OCPPCommCtrlr.HeartbeatInterval"
    assert AttributeId(
        "EVSE", "Power", evse_id=1, connector_id=2, attribute_type="MaxSet"
    ).label == ("EVSE (EVSE 1/2).Power (MaxSet)")


def test_a_report_lists_every_attribute_of_every_variable():
    report = [
        {
            **HEARTBEAT,
            "variableAttribute": [
                {"type": "Actual", "value": 300, "mutability": "ReadWrite", "persistent": True},
                {"type": "MaxSet", "value": "3600"},
            ],
            "variableCharacteristics": {"dataType": "integer", "unit": "s"},
        }
    ]
    assert reported_attributes(report) == [
        AttributeReport(
            HEARTBEAT_ID,
            value="300",
            mutability="ReadWrite",
            persistent=True,
            characteristics={"dataType": "integer", "unit": "s"},
        ),
        AttributeReport(
            AttributeId("OCPPCommCtrlr", "HeartbeatInterval", attribute_type="MaxSet"),
            value="3600",
            characteristics={"dataType": "integer", "unit": "s"},
        ),
    ]


@pytest.mark.parametrize(
    "action,payload,reply,expected",
    [
        (
            "ChangeConfiguration",
            # The whitepaper's hexadecimal form: the charger uses the decoded bytes.
            {"key": "AuthorizationKey", "value": "6E65772D70617373776F72642D30303031"},
            {"status": "Accepted"},
            readers.ReplyFacts(password="new-password-0001"),
        ),
        (
            "ChangeConfiguration",
            # A raw command's plain value, accepted by a charger that takes it as it is.
            {"key": "AuthorizationKey", "value": "new-password-0001"},
            {"status": "Accepted"},
            readers.ReplyFacts(password="new-password-0001"),
        ),
        (
            "ChangeConfiguration",
            {"key": "AuthorizationKey", "value": "new-password-0001"},
            {"status": "Rejected"},
            readers.ReplyFacts(),
        ),
        (
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "60"},
            {"status": "Accepted"},
            readers.ReplyFacts(),
        ),
        (
            "SetVariables",
            {
                "setVariableData": [
                    {**PASSWORD, "attributeValue": "new-password-0002"},
                    {**HEARTBEAT, "attributeValue": 60},
                ]
            },
            {
                "setVariableResult": [
                    {**PASSWORD, "attributeStatus": "Accepted"},
                    {**HEARTBEAT, "attributeStatus": "Accepted"},
                ]
            },
            readers.ReplyFacts(
                password="new-password-0002", values=(AttributeValue(HEARTBEAT_ID, "60"),)
            ),
        ),
        (
            "SetVariables",
            {"setVariableData": [{**HEARTBEAT, "attributeValue": "60"}]},
            {"setVariableResult": [{**HEARTBEAT, "attributeStatus": "RebootRequired"}]},
            readers.ReplyFacts(),
        ),
        (
            "GetVariables",
            {"getVariableData": [HEARTBEAT, PASSWORD]},
            {
                "getVariableResult": [
                    {**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "300"},
                    {**PASSWORD, "attributeStatus": "Rejected"},
                ]
            },
            readers.ReplyFacts(values=(AttributeValue(HEARTBEAT_ID, "300"),)),
        ),
        ("Reset", {"type": "Hard"}, {"status": "Accepted"}, readers.ReplyFacts()),
    ],
)
def test_a_reply_establishes_what_the_charger_now_uses(action, payload, reply, expected):
    assert readers.reply_facts(action, payload, reply) == expected


def test_configuration_keys_are_read_sorted():
    reply = {
        "configurationKey": [
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
            {"key": "ChargePointModel", "readonly": True},
        ],
        "unknownKey": ["Nope"],
    }
    assert readers.configuration_keys(reply) == [
        readers.ConfigurationKey("ChargePointModel", None, True),
        readers.ConfigurationKey("MeterValueSampleInterval", "60", False),
    ]
    assert readers.configuration_keys(None) == []
    assert readers.unknown_keys(reply) == ["Nope"] and readers.unknown_keys(None) == []


def test_the_key_a_change_sets_is_read_from_its_payload():
    assert readers.changed_key("ChangeConfiguration", {"key": "A", "value": "1"}) == "A"
    assert readers.changed_key("Reset", {"type": "Hard"}) is None


def test_variable_results_pair_each_attribute_asked_with_what_the_charger_said():
    payload = {"getVariableData": [HEARTBEAT, {**PASSWORD, "attributeType": "Target"}]}
    reply = {
        "getVariableResult": [
            {**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "300"},
            {
                **PASSWORD,
                "attributeStatus": "Rejected",
                "attributeStatusInfo": {"reasonCode": "WriteOnly"},
            },
        ]
    }
    assert readers.variable_results("GetVariables", payload, reply) == [
        readers.VariableResult(HEARTBEAT_ID, "Accepted", value="300"),
        readers.VariableResult(
            AttributeId("SecurityCtrlr", "BasicAuthPassword", attribute_type="Target"),
            "Rejected",
            reason="WriteOnly",
        ),
    ]
    assert readers.variable_results("SetVariables", {"setVariableData": []}, None) == []
