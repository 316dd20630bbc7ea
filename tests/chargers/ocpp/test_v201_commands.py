"""Every 2.0.1 command through the same command function as 1.6 (see test_v16_commands.py for
where the server runs)."""

import pytest
from asgiref.sync import sync_to_async

from chargers.commands import asend_command
from chargers.models import Charger, CommandStatus, DeviceModelVariable
from chargers.ocpp import builders
from chargers.ocpp.redact import MASK
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import basic, refused_status
from tests.chargers.ocpp.clients201 import connected201
from tests.chargers.payloads import local_list_entry_201, profile_201

pytestmark = pytest.mark.django_db(transaction=True)

VARIABLE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "1"}
MESSAGE = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Hi"}}

EVERY_COMMAND = [
    (
        "RequestStartTransaction",
        {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1, "evseId": 1},
    ),
    ("RequestStopTransaction", {"transactionId": "tx-1"}),
    ("Reset", {"type": "OnIdle"}),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
    ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}),
    ("GetVariables", {"getVariableData": [VARIABLE]}),
    ("SetVariables", {"setVariableData": [{**VARIABLE, "attributeValue": "60"}]}),
    ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
    ("GetReport", {"requestId": 2, "componentCriteria": ["Problem"]}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    (
        "SetChargingProfile",
        {"evseId": 1, "chargingProfile": profile_201(1, "TxDefaultProfile", 16.0)},
    ),
    ("ClearChargingProfile", {"chargingProfileId": 1}),
    ("GetChargingProfiles", {"requestId": 3, "chargingProfile": {"stackLevel": 0}}),
    ("GetCompositeSchedule", {"duration": 3600, "evseId": 1}),
    (
        "UpdateFirmware",
        {
            "requestId": 4,
            "firmware": {
                "location": "http://fw.example/2.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
            },
        },
    ),
    (
        "GetLog",
        {
            "logType": "DiagnosticsLog",
            "requestId": 5,
            "log": {"remoteLocation": "http://logs.example/"},
        },
    ),
    (
        "SendLocalList",
        {
            "versionNumber": 2,
            "updateType": "Full",
            "localAuthorizationList": [local_list_entry_201("X")],
        },
    ),
    ("GetLocalListVersion", {}),
    ("ClearCache", {}),
    (
        "ReserveNow",
        {
            "id": 7,
            "expiryDateTime": "2030-01-01T00:00:00Z",
            "idToken": {"idToken": "X", "type": "ISO14443"},
        },
    ),
    ("CancelReservation", {"reservationId": 7}),
    ("SetDisplayMessage", {"message": MESSAGE}),
    ("GetDisplayMessages", {"requestId": 6}),
    ("ClearDisplayMessage", {"id": 1}),
    ("CostUpdated", {"totalCost": 12.5, "transactionId": "tx-1"}),
    ("GetTransactionStatus", {"transactionId": "tx-1"}),
    (
        "SetNetworkProfile",
        {
            "configurationSlot": 1,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://cpms.example/",
                "messageTimeout": 30,
                "securityProfile": 2,
                "ocppInterface": "Wired0",
            },
        },
    ),
    ("CustomerInformation", {"requestId": 8, "report": True, "clear": False}),
    (
        "SetVariableMonitoring",
        {"setMonitoringData": [{"value": 1.0, "type": "Delta", "severity": 5, **VARIABLE}]},
    ),
    ("SetMonitoringBase", {"monitoringBase": "All"}),
    ("SetMonitoringLevel", {"severity": 5}),
    ("ClearVariableMonitoring", {"id": [1]}),
    (
        "InstallCertificate",
        {"certificateType": "CSMSRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"},
    ),
    ("GetInstalledCertificateIds", {}),
    ("DeleteCertificate", {"certificateHashData": HASH}),
    ("CertificateSigned", {"certificateChain": "-----BEGIN CERTIFICATE-----"}),
    ("DataTransfer", {"vendorId": "com.acme", "messageId": "ping"}),
]


@pytest.mark.parametrize("action,payload", EVERY_COMMAND, ids=[a for a, _ in EVERY_COMMAND])
async def test_every_201_command_reaches_the_charger_and_the_reply_is_recorded(
    command_server, tenant_a, charger, action, payload
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        command = await asend_command(charger, action, payload, timeout=10)
    assert command.status == CommandStatus.ANSWERED, command.error
    assert cp.received and cp.received[0][0] == action
    assert command.response is not None


@sync_to_async
def fresh(charger):
    with scoping.scope(charger.tenant):
        return Charger.objects.get(pk=charger.pk)


async def test_operators_command_16_and_201_chargers_the_same_way(
    command_server, tenant_a, make_charger
):
    from tests.chargers.ocpp.clients import connected

    await sync_to_async(make_charger)(tenant_a, identity="OLD")
    await sync_to_async(make_charger)(tenant_a, identity="NEW")
    async with (
        connected(command_server, "tenant-a", "OLD") as old,
        connected201(command_server, "tenant-a", "NEW") as new,
    ):
        await old.boot()
        await new.boot()
        for identity in ("OLD", "NEW"):
            with scoping.scope(tenant_a):
                charger = await sync_to_async(Charger.objects.get)(identity=identity)
            request = builders.reset(charger, hard=True)
            command = await asend_command(charger, request.action, request.payload, timeout=10)
            assert command.status == CommandStatus.ANSWERED
            assert command.reply_status == "Accepted"
    assert old.received[0] == ("Reset", {"type": "Hard"})
    assert new.received[0] == ("Reset", {"type": "Immediate"})


async def test_get_variables_replies_refresh_the_device_model(command_server, tenant_a, charger):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        request = builders.get_configuration(
            await fresh(charger), keys=["OCPPCommCtrlr.HeartbeatInterval"]
        )
        await asend_command(charger, request.action, request.payload, timeout=10)
    with scoping.scope(tenant_a):
        stored = await sync_to_async(DeviceModelVariable.objects.get)()
    assert (stored.component, stored.variable, stored.value) == (
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        "300",
    )


async def test_an_accepted_password_change_becomes_the_chargers_password(
    command_server, tenant_a, charger
):
    new_password = "rotated-password-0042"
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        request = builders.change_password(await fresh(charger), password=new_password)
        command = await asend_command(charger, request.action, request.payload, timeout=10)
    assert command.status == CommandStatus.ANSWERED
    assert new_password not in str(command.payload) and MASK in str(command.payload)
    async with connected201(command_server, "tenant-a", "CP-1", password=new_password) as cp:
        assert (await cp.boot()).status == "Accepted"
    assert (
        await refused_status(
            command_server,
            "tenant-a",
            "CP-1",
            basic("CP-1", "charger-password-0123"),
            subprotocols=("ocpp2.0.1",),
        )
        == 401
    )
