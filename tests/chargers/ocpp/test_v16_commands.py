"""Every 1.6 command through the command path: the test sends, the consumer holding the
charger's socket forwards it and records the reply. With REDIS_URL (CI=true) daphne's process
holds the socket and Redis carries the doorbell across processes; on the embedded defaults the
server runs in this process and the in-memory layer carries it. The database carries the
record either way."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from ocpp.exceptions import GenericError
from ocpp.v16 import call

from chargers.commands import asend_command
from chargers.models import Charger, Command, CommandStatus, OcppMessage
from chargers.ocpp.redact import MASK
from cpms import hashing
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import PASSWORD, connected
from tests.chargers.payloads import profile_16

pytestmark = pytest.mark.django_db(transaction=True)


EVERY_COMMAND = [
    ("RemoteStartTransaction", {"idTag": "04A1B2C3D4", "connectorId": 1}),
    ("RemoteStopTransaction", {"transactionId": 7}),
    ("Reset", {"type": "Soft"}),
    ("UnlockConnector", {"connectorId": 1}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}),
    ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
    ("ClearCache", {}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}),
    ("DataTransfer", {"vendorId": "com.acme", "messageId": "ping"}),
    ("GetLocalListVersion", {}),
    (
        "SendLocalList",
        {
            "listVersion": 4,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "04A1B2C3D4", "idTagInfo": {"status": "Accepted"}}
            ],
        },
    ),
    (
        "ReserveNow",
        {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "X", "reservationId": 5},
    ),
    ("CancelReservation", {"reservationId": 5}),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile_16()}),
    ("ClearChargingProfile", {"id": 1}),
    ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}),
    (
        "UpdateFirmware",
        {"location": "http://fw.example/1.2.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
    ),
    ("GetDiagnostics", {"location": "http://diag.example/upload"}),
    ("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("CertificateSigned", {"certificateChain": "-----BEGIN CERTIFICATE-----"}),
    (
        "InstallCertificate",
        {
            "certificateType": "CentralSystemRootCertificate",
            "certificate": "-----BEGIN CERTIFICATE-----",
        },
    ),
    ("GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}),
    (
        "DeleteCertificate",
        {
            "certificateHashData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "a",
                "issuerKeyHash": "b",
                "serialNumber": "1",
            }
        },
    ),
    (
        "GetLog",
        {
            "logType": "DiagnosticsLog",
            "requestId": 1,
            "log": {"remoteLocation": "http://logs.example/"},
        },
    ),
    (
        "SignedUpdateFirmware",
        {
            "requestId": 2,
            "firmware": {
                "location": "http://fw.example/2.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
                "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2ln",
            },
        },
    ),
]


@pytest.mark.parametrize("action,payload", EVERY_COMMAND, ids=[a for a, _ in EVERY_COMMAND])
async def test_every_16_command_reaches_the_charger_and_the_reply_is_recorded(
    command_server, tenant_a, charger, alice, action, payload
):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        command = await asend_command(
            charger, action, payload, requested_by=alice, source="test", timeout=10
        )
    assert command.status == CommandStatus.ANSWERED, command.error
    assert cp.received and cp.received[0][0] == action
    assert command.response is not None and command.requested_by_id == alice.pk
    assert command.sent_at and command.completed_at and command.duration_ms >= 0


async def test_a_charger_callerror_is_recorded_as_such(command_server, tenant_a, charger):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.replies["Reset"] = GenericError(description="busy")
        command = await asend_command(charger, "Reset", {"type": "Hard"}, timeout=10)
    assert command.status == CommandStatus.CALL_ERROR
    assert command.error.startswith("GenericError")


async def test_a_charger_that_never_answers_times_out(command_server, tenant_a, charger):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.delay = 3
        command = await asend_command(charger, "ClearCache", {}, timeout=1)
    assert command.status == CommandStatus.TIMEOUT


async def test_an_offline_charger_is_reported_at_once(command_server, tenant_a, charger):
    command = await asend_command(charger, "ClearCache", {}, timeout=10)
    assert command.status == CommandStatus.OFFLINE


async def test_a_payload_that_breaks_the_schema_is_refused_naming_the_field(
    command_server, tenant_a, charger
):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        command = await asend_command(charger, "Reset", {"type": "Sideways"}, timeout=10)
    assert command.status == CommandStatus.REFUSED and "type" in command.error
    assert cp.received == []


async def test_awaiting_a_reply_never_blocks_the_chargers_own_messages(
    command_server, tenant_a, charger
):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.delay = 2
        pending = asyncio.create_task(asend_command(charger, "Reset", {"type": "Soft"}, timeout=10))
        while not cp.received:
            await asyncio.sleep(0.02)
        # The charger still holds the command unanswered while its heartbeat is answered.
        assert (await cp.call(call.Heartbeat())).current_time
        assert not pending.done()
        assert (await pending).status == CommandStatus.ANSWERED


async def test_a_charger_gets_one_call_at_a_time(command_server, tenant_a, charger):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.delay = 0.2
        results = await asyncio.gather(
            *[asend_command(charger, "ClearCache", {}, timeout=10) for _ in range(4)]
        )
    assert [c.status for c in results] == [CommandStatus.ANSWERED] * 4
    assert cp.most_in_flight == 1


async def test_too_many_queued_commands_are_refused_clearly(command_server, tenant_a, charger):
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.delay = 0.15
        results = await asyncio.gather(
            *[asend_command(charger, "ClearCache", {}, timeout=10) for _ in range(20)]
        )
    statuses = [c.status for c in results]
    assert statuses.count(CommandStatus.REFUSED) >= 1
    assert statuses.count(CommandStatus.ANSWERED) >= 16
    assert any("Too many" in c.error for c in results)


async def test_secrets_are_masked_in_the_audit_and_the_message_log(
    command_server, tenant_a, charger
):
    secret = "new-authorization-key-0123"
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        changed = await asend_command(
            charger, "ChangeConfiguration", {"key": "AuthorizationKey", "value": secret}, timeout=10
        )
        read = await asend_command(charger, "GetConfiguration", {}, timeout=10)
    assert cp.received[0][1]["value"] == secret  # the charger got the real value
    assert changed.payload["value"] == MASK
    assert MASK in str(read.response) and "secret-in-reply" not in str(read.response)
    bodies = await in_a(tenant_a, lambda: list(OcppMessage.objects.values_list("body", flat=True)))
    assert not any(secret in b or "secret-in-reply" in b for b in bodies)
    assert sum(MASK in b for b in bodies) == 2


async def test_commands_are_recorded_in_the_chargers_tenant(command_server, tenant_a, charger):
    await asend_command(charger, "ClearCache", {}, timeout=10)
    with scoping.scope(tenant_a):
        assert await sync_to_async(Command.objects.count)() == 1


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="about the Redis layer's blocking read of the consumer's inbox (REDIS_URL, CI=true "
    "sets it); the in-memory layer has none",
)
async def test_a_charger_quiet_for_longer_than_the_layers_blocking_read_still_gets_commands(
    command_server, tenant_a, charger
):
    # The layer blocks 5 s per read of the consumer's inbox; a Redis client that gives up
    # reading at the same moment kills the consumer and drops the charger's socket.
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await asyncio.sleep(11)
        command = await asend_command(charger, "ClearCache", {}, timeout=10)
        assert (await cp.call(call.Heartbeat())).current_time
    assert command.status == CommandStatus.ANSWERED, command.error


NEW_PASSWORD = "a-new-password-0123"


@pytest.mark.parametrize(
    "change",
    [
        {"key": "HeartbeatInterval", "value": "60"},
        # The charger uses this password from its next connection: losing the answer would
        # lock it out.
        {"key": "AuthorizationKey", "value": NEW_PASSWORD.encode().hex().upper()},
    ],
)
async def test_an_answer_is_recorded_though_the_charger_disconnects_at_once(
    ocpp_server_in_process, tenant_a, charger, settings, change
):
    # A busy server: the sockets' database work waits behind other work, so the charger's
    # socket has closed before its answer is recorded. The answer must still be recorded (it
    # may carry a password the charger uses from now on). The server runs in this process so
    # that the test can hold its one database thread.
    import threading

    settings.OCPP_DB_THREADS = 1
    busy = threading.Event()
    async with connected(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.answering.clear()
        command = await asend_command(charger, "ChangeConfiguration", change, wait=False)

        async def asked():
            return cp.received

        await eventually(asked, what="the charger got the command")
        holding = asyncio.create_task(sync_to_async(busy.wait)())
        cp.answering.set()  # it answers, and closes its socket at once
        await asyncio.gather(*cp._tasks)  # the answer is on the wire (its handler is done)
    busy.set()
    await holding

    async def outcome():
        row = await in_a(tenant_a, lambda: Command.objects.get(pk=command.pk))
        return row if row.status not in (CommandStatus.QUEUED, CommandStatus.SENT) else None

    recorded = await eventually(outcome, what="the command's outcome")
    assert (recorded.status, recorded.response) == (CommandStatus.ANSWERED, {"status": "Accepted"})
    stored = await in_a(tenant_a, lambda: Charger.objects.get(pk=charger.pk).password_hash)
    changed = change["key"] == "AuthorizationKey"
    assert hashing.check(NEW_PASSWORD, stored) is changed
    assert hashing.check(PASSWORD, stored) is not changed
