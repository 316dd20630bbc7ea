"""Canaries for the parts the OCPP server borrows: they fail on an upgrade that moves them.

From the `ocpp` library only its action names and schema files (chargers/ocpp/library.py);
from Channels the consumer's dispatch, which ours copies without its per-frame hop to the
database thread (chargers/ocpp/consumer.py).
"""

import inspect
import json

import fastjsonschema
import pytest
from channels.consumer import AsyncConsumer, get_handler_name

from chargers.ocpp import library
from chargers.ocpp.consumer import CENTRAL_SYSTEMS, OcppConsumer
from chargers.ocpp.readers import (
    CHANGE_KEY,
    CHANGE_VARIABLES,
    READ_KEYS,
    READ_REPORT,
    READ_VARIABLES,
)


def test_every_version_lists_the_actions_it_always_had():
    common = {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "Authorize"}
    assert common <= library.ACTIONS["1.6"]
    assert {"StartTransaction", "GetConfiguration", "ChangeConfiguration"} <= library.ACTIONS["1.6"]
    for version in ("2.0.1", "2.1"):
        assert common | {"TransactionEvent", "NotifyReport"} <= library.ACTIONS[version]
        assert {"GetVariables", "SetVariables"} <= library.ACTIONS[version]


@pytest.mark.parametrize("version", library.VERSIONS)
def test_every_action_has_its_request_and_response_schema(version):
    unusable = []
    for action in sorted(library.ACTIONS[version]):
        for response in (False, True):
            try:
                schema = json.loads(library.schema_text(version, action, response=response))
                fastjsonschema.compile(schema)
            except (OSError, ValueError, fastjsonschema.JsonSchemaDefinitionException) as error:
                unusable.append(f"{action} {'response' if response else 'request'}: {error}")
    assert unusable == []


@pytest.mark.parametrize("version", library.VERSIONS)
def test_every_action_we_handle_is_one_of_the_versions(version):
    central = CENTRAL_SYSTEMS[version]
    assert central.handlers, "no handlers registered: the registry is broken"
    assert set(central.handlers) <= library.ACTIONS[version]
    assert central.known_actions == library.ACTIONS[version]


def test_the_replies_we_read_are_of_actions_the_versions_have():
    assert {READ_KEYS, CHANGE_KEY} <= library.ACTIONS["1.6"]
    assert {READ_VARIABLES, CHANGE_VARIABLES, READ_REPORT} <= library.ACTIONS["2.0.1"]


def test_an_action_of_another_version_has_no_schema_here():
    with pytest.raises(OSError):
        library.schema_text("1.6", "TransactionEvent", response=False)


def test_channels_dispatch_still_does_what_ours_copies():
    # Ours routes each event as Channels' does, minus aclose_old_connections: if Channels'
    # dispatch starts doing anything else, ours must learn it too.
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert "get_handler_name(message)" in source and "aclose_old_connections" in source
    assert get_handler_name({"type": "ocpp.command"}) == "ocpp_command"
    assert OcppConsumer.dispatch is not AsyncConsumer.dispatch
