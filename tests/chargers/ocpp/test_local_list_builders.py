"""The local list, said in each version's OCPP: SendLocalList payloads each schema accepts
(removals without their info), the probe of a charger's list and what its replies mean."""

import pytest

from chargers.models import Charger
from chargers.ocpp import builders, readers
from chargers.ocpp.frames import CALL
from chargers.ocpp.schemas import schema_problem

CARD = builders.ListEntry(
    uid="04A1",
    type="ISO14443",
    status="Blocked",
    expires_at="2027-01-01T00:00:00Z",
    group_uid="FLEET-1",
    group_type="Central",
)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("full", [False, True])
def test_an_update_is_valid_ocpp_for_each_version(version, full):
    charger = Charger(ocpp_version=version)
    request = builders.send_local_list(
        charger, version=4, full=full, entries=[("04A1", CARD), ("04B1", None)]
    )
    assert schema_problem(version, CALL, request.action, request.payload) is None
    for request in (
        builders.local_list_version(charger),
        builders.local_list_capabilities(charger),
    ):
        assert schema_problem(version, CALL, request.action, request.payload) is None


def test_a_16_update_carries_idtaginfo_and_removes_without_it():
    request = builders.send_local_list(
        Charger(ocpp_version="1.6"), version=2, full=False, entries=[("04A1", CARD), ("04B1", None)]
    )

    assert request.payload == {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [
            {
                "idTag": "04A1",
                "idTagInfo": {
                    "status": "Blocked",
                    "expiryDate": "2027-01-01T00:00:00Z",
                    "parentIdTag": "FLEET-1",
                },
            },
            {"idTag": "04B1"},
        ],
    }


def test_a_201_update_names_each_tokens_type_and_removes_without_its_info():
    request = builders.send_local_list(
        Charger(ocpp_version="2.0.1"),
        version=2,
        full=False,
        entries=[("04A1", CARD), ("04B1", None)],
        removed_types={"04B1": "KeyCode"},
    )

    assert request.payload["localAuthorizationList"] == [
        {
            "idToken": {"idToken": "04A1", "type": "ISO14443"},
            "idTokenInfo": {
                "status": "Blocked",
                "cacheExpiryDateTime": "2027-01-01T00:00:00Z",
                "groupIdToken": {"idToken": "FLEET-1", "type": "Central"},
            },
        },
        {"idToken": {"idToken": "04B1", "type": "KeyCode"}},
    ]


def test_a_16_charger_without_the_feature_profile_keeps_no_list():
    reply = {
        "configurationKey": [
            {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core,SmartCharging"}
        ]
    }
    assert readers.list_capabilities(readers.READ_KEYS, reply).supported is False


def test_a_16_chargers_limits_are_read_from_its_keys():
    reply = {
        "configurationKey": [
            {
                "key": "SupportedFeatureProfiles",
                "readonly": True,
                "value": "Core,LocalAuthListManagement",
            },
            {"key": "LocalAuthListEnabled", "readonly": False, "value": "true"},
            {"key": "LocalAuthListMaxLength", "readonly": True, "value": "500"},
            {"key": "SendLocalListMaxLength", "readonly": True, "value": "50"},
        ]
    }
    assert readers.list_capabilities(readers.READ_KEYS, reply) == readers.ListCapabilities(
        supported=True, capacity=500, per_message=50
    )


def _result(name, value, status="Accepted"):
    return {
        "attributeStatus": status,
        "component": {"name": "LocalAuthListCtrlr"},
        "variable": {"name": name},
        "attributeValue": value,
    }


def test_a_201_chargers_limits_are_read_from_its_device_model():
    reply = {
        "getVariableResult": [
            _result("Available", "true"),
            _result("Enabled", "true"),
            _result("ItemsPerMessage", "20"),
            _result("BytesPerMessage", "4096"),
        ]
    }
    assert readers.list_capabilities(readers.READ_VARIABLES, reply) == readers.ListCapabilities(
        supported=True, per_message=20, bytes_per_message=4096
    )


def test_a_201_charger_without_the_controller_keeps_no_list():
    reply = {"getVariableResult": [_result("Available", None, "UnknownComponent")]}
    assert readers.list_capabilities(readers.READ_VARIABLES, reply).supported is False


@pytest.mark.parametrize(
    ("reply", "version"), [({"listVersion": 3}, 3), ({"versionNumber": 0}, 0), ({}, None)]
)
def test_the_list_version_is_read_in_either_version(reply, version):
    assert readers.list_version(reply) == version
