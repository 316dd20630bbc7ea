"""The simulator covers the server: every command the server can send has a handler in the
simulated charger, and a charger that is asked everything sends every message the server
handles. The sets come from the server's central-system classes, not from a list here, so a
message or command the server learns fails these tests until the simulator learns it too."""

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.routing import create_route_map

from chargers.ocpp.v16 import CentralSystem16
from chargers.ocpp.v201 import CentralSystem201
from chargers.simulator.v16 import Charger16, RoutedChargePoint16
from chargers.simulator.v201 import Charger201, RoutedChargePoint201
from tests.chargers.payloads import local_list_entry_201, profile_16, profile_201
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import running

CENTRALS = {"1.6": CentralSystem16, "2.0.1": CentralSystem201}
SIMULATED = {"1.6": (Charger16, RoutedChargePoint16), "2.0.1": (Charger201, RoutedChargePoint201)}
# The one action both sides may send, in every OCPP version.
BOTH_WAYS = {"DataTransfer"}
PEM = "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----"


def actions_of(cls) -> set[str]:
    return {getattr(action, "value", action) for action in create_route_map(cls)}


def messages_the_server_handles(version: str) -> set[str]:
    return set(CENTRALS[version].handlers)


def commands_the_server_can_send(version: str) -> set[str]:
    """Every action of the version the server does not take from chargers, and DataTransfer."""
    central = CENTRALS[version]
    handled = set(central.handlers)
    return (set(central.known_actions) - handled) | (handled & BOTH_WAYS)


def soon(seconds: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_the_server_sets_are_what_the_versions_define():
    # Guards the derivation itself: a wrong import or enum would make the tests below vacuous.
    assert {"StartTransaction", "SignCertificate"} <= messages_the_server_handles("1.6")
    assert {"RemoteStartTransaction", "SignedUpdateFirmware"} <= commands_the_server_can_send("1.6")
    assert {"NotifyEVChargingNeeds", "NotifyMonitoringReport"} <= messages_the_server_handles(
        "2.0.1"
    )
    assert {"GetMonitoringReport", "CostUpdated"} <= commands_the_server_can_send("2.0.1")
    assert "DataTransfer" in commands_the_server_can_send("2.0.1")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_simulator_answers_every_command_the_server_can_send(version):
    charger_class, routed = SIMULATED[version]
    routed_actions = actions_of(routed)
    assert commands_the_server_can_send(version) - routed_actions == set()
    # Every routed command reaches a method of the charger.
    routes = create_route_map(routed)
    for action in routed_actions & commands_the_server_can_send(version):
        handler = routes[action]["_on_action"]
        assert hasattr(charger_class, handler.__name__), f"{action}: no {handler.__name__}"


def commands_16(upload_url: str) -> list:
    """(action, payload or payload(charger), the message the charger sends in consequence,
    alone or with the status or type it carries)."""
    return [
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}, None),
        ("GetConfiguration", {"key": ["HeartbeatInterval"]}, None),
        ("ClearCache", {}, None),
        ("DataTransfer", {"vendorId": "CPMS-Sim", "messageId": "ping", "data": "x"}, None),
        (
            "SendLocalList",
            {
                "listVersion": 4,
                "updateType": "Full",
                "localAuthorizationList": [{"idTag": "TAG-1", "idTagInfo": {"status": "Accepted"}}],
            },
            None,
        ),
        ("GetLocalListVersion", {}, None),
        (
            "ReserveNow",
            {"connectorId": 2, "expiryDate": soon(600), "idTag": "X", "reservationId": 5},
            "StatusNotification",
        ),
        ("CancelReservation", {"reservationId": 5}, "StatusNotification"),
        ("TriggerMessage", {"requestedMessage": "Heartbeat"}, "Heartbeat"),
        ("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1}, "StartTransaction"),
        (
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": profile_16()},
            None,
        ),
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, None),
        ("ClearChargingProfile", {"id": 1}, None),
        ("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}, "MeterValues"),
        (
            "RemoteStopTransaction",
            lambda charger: {"transactionId": charger.sessions[0].transaction_id},
            "StopTransaction",
        ),
        ("UnlockConnector", {"connectorId": 2}, None),
        ("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}, "StatusNotification"),
        (
            "ExtendedTriggerMessage",
            {"requestedMessage": "SignChargePointCertificate"},
            "SignCertificate",
        ),
        ("CertificateSigned", {"certificateChain": PEM}, None),
        (
            "InstallCertificate",
            {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
            None,
        ),
        ("GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}, None),
        (
            "DeleteCertificate",
            lambda charger: {"certificateHashData": charger.certificates.installed[0].hash_data},
            None,
        ),
        ("GetDiagnostics", {"location": upload_url}, "DiagnosticsStatusNotification"),
        (
            "GetLog",
            {"logType": "SecurityLog", "requestId": 1, "log": {"remoteLocation": upload_url}},
            "LogStatusNotification",
        ),
        (
            "UpdateFirmware",
            {"location": "http://fw.example/fw-1.1.0.bin", "retrieveDate": soon()},
            "BootNotification",
        ),
        (
            "SignedUpdateFirmware",
            {
                "requestId": 2,
                "firmware": {
                    "location": "http://fw.example/fw-1.2.0.bin",
                    "retrieveDateTime": soon(),
                    "signingCertificate": PEM,
                    "signature": "c2ln",
                },
            },
            "BootNotification",
        ),
        ("Reset", {"type": "Soft"}, ("SecurityEventNotification", "ResetOrReboot")),
    ]


def commands_201(upload_url: str) -> list:
    heartbeat = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    message = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Hi"}}
    session = lambda charger: charger.sessions[0].transaction_id  # noqa: E731
    return [
        ("SetVariables", {"setVariableData": [{**heartbeat, "attributeValue": "120"}]}, None),
        ("GetVariables", {"getVariableData": [heartbeat]}, None),
        ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, "NotifyReport"),
        ("GetReport", {"requestId": 2, "componentVariable": [heartbeat]}, "NotifyReport"),
        (
            "SetVariableMonitoring",
            {"setMonitoringData": [{"value": 10.0, "type": "Delta", "severity": 5, **heartbeat}]},
            None,
        ),
        ("SetMonitoringLevel", {"severity": 5}, None),
        ("GetMonitoringReport", {"requestId": 3}, "NotifyMonitoringReport"),
        ("ClearVariableMonitoring", {"id": [1]}, None),
        ("SetMonitoringBase", {"monitoringBase": "All"}, None),
        ("SetDisplayMessage", {"message": message}, None),
        ("GetDisplayMessages", {"requestId": 4}, "NotifyDisplayMessages"),
        ("ClearDisplayMessage", {"id": 1}, None),
        (
            "CustomerInformation",
            {
                "requestId": 5,
                "report": True,
                "clear": False,
                "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
            },
            "NotifyCustomerInformation",
        ),
        (
            "SetNetworkProfile",
            {
                "configurationSlot": 2,
                "connectionData": {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://cpms.example/ocpp/demo/",
                    "messageTimeout": 30,
                    "securityProfile": 2,
                    "ocppInterface": "Wired0",
                },
            },
            None,
        ),
        ("ClearCache", {}, None),
        ("DataTransfer", {"vendorId": "CPMS-Sim", "messageId": "ping"}, None),
        (
            "SendLocalList",
            {
                "versionNumber": 2,
                "updateType": "Full",
                "localAuthorizationList": [local_list_entry_201("TAG-1")],
            },
            None,
        ),
        ("GetLocalListVersion", {}, None),
        (
            "ReserveNow",
            {
                "id": 7,
                "expiryDateTime": soon(600),
                "idToken": {"idToken": "X", "type": "ISO14443"},
                "evseId": 2,
            },
            "StatusNotification",
        ),
        # A reserved EVSE taken out of use ends its reservation: ReservationStatusUpdate.
        (
            "ChangeAvailability",
            {"operationalStatus": "Inoperative", "evse": {"id": 2}},
            ("ReservationStatusUpdate", "Removed"),
        ),
        (
            "ChangeAvailability",
            {"operationalStatus": "Operative", "evse": {"id": 2}},
            "StatusNotification",
        ),
        (
            "ReserveNow",
            {
                "id": 8,
                "expiryDateTime": soon(600),
                "idToken": {"idToken": "X", "type": "ISO14443"},
                "evseId": 2,
            },
            "StatusNotification",
        ),
        ("CancelReservation", {"reservationId": 8}, "StatusNotification"),
        (
            "InstallCertificate",
            {"certificateType": "CSMSRootCertificate", "certificate": PEM},
            None,
        ),
        ("GetInstalledCertificateIds", {}, None),
        (
            "DeleteCertificate",
            lambda charger: {"certificateHashData": charger.certificates.installed[0].hash_data},
            None,
        ),
        (
            "TriggerMessage",
            {"requestedMessage": "SignChargingStationCertificate"},
            "SignCertificate",
        ),
        ("CertificateSigned", {"certificateChain": PEM}, None),
        ("TriggerMessage", {"requestedMessage": "Heartbeat"}, "Heartbeat"),
        (
            "RequestStartTransaction",
            {"idToken": {"idToken": "APP-1", "type": "Central"}, "remoteStartId": 1, "evseId": 2},
            "TransactionEvent",
        ),
        ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}, "MeterValues"),
        (
            "SetChargingProfile",
            {"evseId": 2, "chargingProfile": profile_201(1, "TxDefaultProfile", 16.0)},
            None,
        ),
        (
            "GetChargingProfiles",
            {"requestId": 6, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
            "ReportChargingProfiles",
        ),
        ("GetCompositeSchedule", {"duration": 3600, "evseId": 2}, None),
        ("ClearChargingProfile", {"chargingProfileId": 1}, None),
        (
            "CostUpdated",
            lambda charger: {"totalCost": 1.5, "transactionId": session(charger)},
            None,
        ),
        ("GetTransactionStatus", lambda charger: {"transactionId": session(charger)}, None),
        (
            "RequestStopTransaction",
            lambda charger: {"transactionId": session(charger)},
            "TransactionEvent",
        ),
        ("UnlockConnector", {"evseId": 1, "connectorId": 1}, None),
        (
            "ChangeAvailability",
            {"operationalStatus": "Inoperative", "evse": {"id": 2}},
            "StatusNotification",
        ),
        (
            "GetLog",
            {"logType": "DiagnosticsLog", "requestId": 9, "log": {"remoteLocation": upload_url}},
            "LogStatusNotification",
        ),
        (
            "PublishFirmware",
            {"location": "http://fw.example/fw-2.0.0.bin", "checksum": "abc", "requestId": 10},
            ("PublishFirmwareStatusNotification", "Published"),
        ),
        ("UnpublishFirmware", {"checksum": "abc"}, None),
        (
            "UpdateFirmware",
            {
                "requestId": 11,
                "firmware": {
                    "location": "http://fw.example/fw-2.1.0.bin",
                    "retrieveDateTime": soon(),
                    "signingCertificate": PEM,
                    "signature": "c2ln",
                },
            },
            "BootNotification",
        ),
        ("Reset", {"type": "Immediate"}, ("SecurityEventNotification", "ResetOrReboot")),
    ]


async def on_request_16(charger, csms):
    """What a 1.6 charger sends on its own: a session of a driver with a card, vendor data."""
    await charger.start_session("TAG-1", connector_id=1)
    await charger.stop_session("Local", connector_id=1)
    assert await charger.data_transfer("hello", "world") == "Accepted"


async def on_request_201(charger, csms):
    """What a 2.0.1 station sends on its own: an ISO 15118 session, a local limit, a fault."""
    await charger.start_session("TAG-1", connector_id=1, iso15118=True)
    await csms.wait_for("NotifyEVChargingNeeds")
    await csms.command(
        charger.id,
        "SetChargingProfile",
        {
            "evseId": 1,
            "chargingProfile": profile_201(
                3, "TxProfile", 7000.0, "W", kind="Relative", stackLevel=1
            ),
        },
    )
    await csms.wait_for("NotifyEVChargingSchedule")
    await charger.stop_session("Local", connector_id=1)
    await charger.limit_locally(11000.0)
    await charger.limit_locally(None)
    await charger.fault("GroundFailure", 1)
    await charger.security_event("TamperDetectionActivated", "cover opened")
    assert await charger.data_transfer("hello", "world") == "Accepted"


SCENARIOS = {"1.6": (commands_16, on_request_16), "2.0.1": (commands_201, on_request_201)}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_charger_asked_everything_sends_every_message_the_server_handles(
    csms, make_charger, upload_server, version
):
    url, uploaded = upload_server
    commands, on_request = SCENARIOS[version]
    steps = commands(url)
    assert commands_the_server_can_send(version) - {action for action, _, _ in steps} == set()
    charger = make_charger(version, upload_timeout=PATIENCE)
    async with running(charger):
        await on_request(charger, csms)
        for action, payload, follow_up in steps:
            assert await charger.wait_until(lambda: charger.online, PATIENCE), (
                f"offline before {action}"
            )
            since = csms.mark()
            payload = payload(charger) if callable(payload) else payload
            # The library checks the answer against the version's schema; a CALLERROR raises.
            await csms.command(charger.id, action, payload)
            if follow_up:
                # The message that follows, and where it says so, the status or type it has.
                follow_up, said = follow_up if isinstance(follow_up, tuple) else (follow_up, None)
                await csms.wait_for(
                    follow_up,
                    lambda p, said=said: (
                        said
                        in (None, p.get("status"), p.get("type"), p.get("reservationUpdateStatus"))
                    ),
                    since=since,
                )
        assert await charger.wait_until(lambda: charger.online, PATIENCE)

    assert len(uploaded) == (2 if version == "1.6" else 1)
    # Every message was valid and answered: no CALLERROR, nothing given up, no handler failed.
    assert charger.stats.counts["call_errors"] == 0
    assert [e.text for e in charger.events if e.kind == "error"] == []
    assert messages_the_server_handles(version) - set(csms.actions()) == set()
