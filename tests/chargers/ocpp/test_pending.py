"""A charger registered as Pending (1.6 4.2, 2.0.1 B02) over real sockets: what the CSMS asks
of it (a triggered message, the reports a GetBaseReport announces) is answered as usual, what
it sends unasked is a SecurityError, and it is not sent what only an accepted charger is (a
remote start or stop). Approved while connected, it is asked to boot again at once."""

import pytest
from asgiref.sync import sync_to_async
from ocpp.exceptions import SecurityError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargers.commands import asend_command
from chargers.models import CommandStatus, Connector, RegistrationStatus
from chargers.services.chargers import charger_set_registration
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import connected, now
from tests.chargers.ocpp.clients201 import connected201

pytestmark = pytest.mark.django_db(transaction=True)

STATUS_201 = call201.StatusNotification(
    timestamp=now(), connector_status="Available", evse_id=1, connector_id=1
)
STATUS_16 = call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")


HEARTBEAT_INTERVAL = {
    "component": {"name": "OCPPCommCtrlr"},
    "variable": {"name": "HeartbeatInterval"},
}


@pytest.fixture
def pending(make_charger, tenant_a):
    return make_charger(tenant_a, registration_status=RegistrationStatus.PENDING)


def connectors(tenant):
    return in_a(tenant, lambda: list(Connector.objects.values_list("status", flat=True)))


async def test_a_pending_201_charger_is_answered_the_message_it_was_triggered_to_send(
    command_server, tenant_a, pending
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"
        # Unasked, it is refused ...
        with pytest.raises(SecurityError):
            await cp.call(STATUS_201, suppress=False)
        trigger = {"requestedMessage": "StatusNotification", "evse": {"id": 1}}
        command = await asend_command(pending, "TriggerMessage", trigger, timeout=10)
        assert command.status == CommandStatus.ANSWERED, command.error
        # ... asked for, it is answered and kept.
        await cp.call(STATUS_201, suppress=False)
        # What was not asked for is still refused.
        with pytest.raises(SecurityError):
            await cp.call(call201.Heartbeat(), suppress=False)
    assert await connectors(tenant_a) == ["Available"]


async def test_a_pending_201_charger_sends_the_report_it_was_asked_for(
    command_server, tenant_a, pending
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"
        report = {"requestId": 1, "reportBase": "ConfigurationInventory"}
        command = await asend_command(pending, "GetBaseReport", report, timeout=10)
        assert command.status == CommandStatus.ANSWERED, command.error
        await cp.call(
            call201.NotifyReport(request_id=1, generated_at=now(), seq_no=0, tbc=False),
            suppress=False,
        )


async def test_a_pending_16_charger_is_answered_the_message_it_was_triggered_to_send(
    command_server, tenant_a, pending
):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"
        trigger = {"requestedMessage": "StatusNotification", "connectorId": 1}
        command = await asend_command(pending, "TriggerMessage", trigger, timeout=10)
        assert command.status == CommandStatus.ANSWERED, command.error
        await cp.call(STATUS_16, suppress=False)
        with pytest.raises(SecurityError):
            await cp.call(call16.Heartbeat(), suppress=False)
    assert await connectors(tenant_a) == ["Available"]


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        ("1.6", "RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1}),
        ("1.6", "RemoteStopTransaction", {"transactionId": 1}),
        (
            "2.0.1",
            "RequestStartTransaction",
            {"idToken": {"idToken": "TAG-1", "type": "Central"}, "remoteStartId": 1},
        ),
        ("2.0.1", "RequestStopTransaction", {"transactionId": "tx-1"}),
    ],
)
async def test_a_pending_charger_is_sent_no_remote_start_or_stop(
    command_server, tenant_a, pending, version, action, payload
):
    client = connected if version == "1.6" else connected201
    async with client(command_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"
        command = await asend_command(pending, action, payload, timeout=10)
        # A command it may be sent still reaches it: the refusal is not the socket's.
        read = await asend_command(
            pending,
            "GetConfiguration" if version == "1.6" else "GetVariables",
            {} if version == "1.6" else {"getVariableData": [HEARTBEAT_INTERVAL]},
            timeout=10,
        )
    assert command.status == CommandStatus.REFUSED
    assert "Pending" in command.error and action in command.error
    assert read.status == CommandStatus.ANSWERED
    assert action not in [name for name, _ in cp.received]


async def test_a_charger_approved_while_connected_is_asked_to_boot_and_then_sent_remote_starts(
    command_server, tenant_a, pending
):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"

        @sync_to_async
        def approve():
            with scoping.scope(tenant_a):
                charger_set_registration(charger=pending, status=RegistrationStatus.ACCEPTED)

        await approve()

        async def asked_to_boot():
            return ("TriggerMessage", {"requested_message": "BootNotification"}) in cp.received

        await eventually(asked_to_boot, what="the TriggerMessage(BootNotification)")
        assert (await cp.boot()).status == "Accepted"
        command = await asend_command(
            pending, "RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1}, timeout=10
        )
    assert command.status == CommandStatus.ANSWERED, command.error
