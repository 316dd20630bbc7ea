"""Simulated chargers against the real server (`command_server`: daphne in a child process on
Redis, the application in this process on the embedded defaults): what the simulator sends is
answered and kept, and what the server asks is answered and followed by the messages a real
charger sends, which the server keeps too."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async

from chargers.commands import asend_command
from chargers.models import Charger, ChargerEvent, CommandStatus, EventKind, IdToken
from chargers.simulator import SimulatedCharger
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.payloads import profile_201
from tests.chargers.simulator import helpers
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import register, running, wait_until_offline

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "SIM-TAG-0001"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----"


@pytest.fixture
def registered(tenant_a):
    """The server knows charger SIM-0001 (with its password) and the driver's tag."""
    (charger,) = register(tenant_a, "SIM-0001")
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid=TAG)
    charger.refresh_from_db()
    yield charger
    wait_until_offline(tenant_a)


def simulated(server: str, version: str, **overrides) -> SimulatedCharger:
    return helpers.simulated(server, "SIM-0001", version, upload_timeout=PATIENCE, **overrides)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@sync_to_async
def kept(charger: Charger) -> dict[str, list[str]]:
    """The charger's kept events: kind -> summaries, oldest first."""
    with scoping.scope(charger.tenant):
        events = ChargerEvent.objects.filter(charger=charger).order_by("at", "pk")
        found: dict[str, list[str]] = {}
        for kind, summary in events.values_list("kind", "summary"):
            found.setdefault(kind, []).append(summary)
        return found


@sync_to_async
def payload_of(charger: Charger, kind: str) -> dict:
    with scoping.scope(charger.tenant):
        return ChargerEvent.objects.get(charger=charger, kind=kind).payload


@sync_to_async
def fresh(charger: Charger) -> Charger:
    with scoping.scope(charger.tenant):
        return Charger.objects.get(pk=charger.pk)


async def command(charger: Charger, action: str, payload: dict) -> dict:
    sent = await asend_command(charger, action, payload, timeout=PATIENCE)
    assert sent.status == CommandStatus.ANSWERED, sent.error
    return sent.response


async def test_a_16_charger_s_security_messages_are_kept(command_server, registered):
    async with running(simulated(command_server, "1.6")) as sim:
        await sim.security_event("TamperDetectionActivated", "cover opened")
        # The server has no vendor extensions (it says so); the charger's CSR is its own.
        assert await sim.data_transfer("hello", "world") == "UnknownVendorId"
        assert await sim.sign_certificate() == "Accepted"

    found = await kept(registered)
    assert found[EventKind.SECURITY_EVENT] == ["TamperDetectionActivated"]
    assert found[EventKind.DATA_TRANSFER] == ["CPMS-Sim hello"]
    assert found[EventKind.SIGN_CERTIFICATE] == ["CSR accepted; signing"]


async def test_a_16_charger_uploads_its_log_and_installs_signed_firmware_as_asked(
    command_server, registered, upload_server
):
    url, uploaded = upload_server
    async with running(simulated(command_server, "1.6")) as sim:
        reply = await command(
            registered,
            "GetLog",
            {"logType": "SecurityLog", "requestId": 1, "log": {"remoteLocation": url}},
        )
        assert reply["status"] == "Accepted"
        reply = await command(
            registered,
            "SignedUpdateFirmware",
            {
                "requestId": 2,
                "firmware": {
                    "location": "http://fw.example/fw-1.2.0.bin",
                    "retrieveDateTime": now(),
                    "signingCertificate": PEM,
                    "signature": "c2ln",
                },
            },
        )
        assert reply["status"] == "Accepted"
        assert await sim.wait_until(
            lambda: sim.firmware_version == "1.2.0" and sim.online, PATIENCE
        )

        async def installed():
            charger = await fresh(registered)
            return charger.firmware_status == "Installed" and charger.firmware_version == "1.2.0"

        await eventually(installed)

    found = await kept(registered)
    assert found[EventKind.LOG_STATUS] == ["Uploading", "Uploaded"]
    assert len(uploaded) == 1 and uploaded[0]["name"].startswith("securitylog-SIM-0001")
    assert found[EventKind.SIGNED_FIRMWARE_STATUS] == [
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert found[EventKind.SECURITY_EVENT] == ["FirmwareUpdated"]


async def test_a_201_iso15118_session_states_the_cars_needs_and_its_schedule(
    command_server, registered
):
    async with running(simulated(command_server, "2.0.1")) as sim:
        session = await sim.start_session(TAG, connector_id=1, iso15118=True)
        assert session is not None and session.transaction_id is not None
        await eventually(lambda: _has(registered, EventKind.EV_CHARGING_NEEDS))
        reply = await command(
            registered,
            "SetChargingProfile",
            {
                "evseId": 1,
                "chargingProfile": profile_201(
                    3,
                    "TxProfile",
                    7000.0,
                    "W",
                    kind="Relative",
                    stackLevel=1,
                    transactionId=session.transaction_id,
                ),
            },
        )
        assert reply["status"] == "Accepted"
        await eventually(lambda: _has(registered, EventKind.EV_CHARGING_SCHEDULE))
        await sim.stop_session("Local", connector_id=1)

    found = await kept(registered)
    # This car is not a Plug & Charge one: its request is no contract the tenant's provider can
    # read, and the placeholder OCSP data names no certificate of the tenant's PKI.
    (install,) = found[EventKind.EV_CERTIFICATE]
    assert install.startswith("install ?: failed") and "real provider" in install
    (status,) = found[EventKind.CERTIFICATE_STATUS]
    assert status.startswith("failed: not a certificate of this tenant's V2G PKI")
    needs = await payload_of(registered, EventKind.EV_CHARGING_NEEDS)
    schedule = await payload_of(registered, EventKind.EV_CHARGING_SCHEDULE)
    assert needs["evseId"] == 1
    assert needs["chargingNeeds"]["acChargingParameters"]["energyAmount"] > 0
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] <= 7000.0


async def _has(charger: Charger, kind: str) -> bool:
    return kind in await kept(charger)


async def test_a_201_station_answers_reports_with_the_notifications_the_server_keeps(
    command_server, registered
):
    heartbeat = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    message = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Hi"}}
    async with running(simulated(command_server, "2.0.1")) as sim:
        await command(
            registered,
            "SetVariableMonitoring",
            {"setMonitoringData": [{"value": 10.0, "type": "Delta", "severity": 5, **heartbeat}]},
        )
        assert (await command(registered, "GetMonitoringReport", {"requestId": 3}))[
            "status"
        ] == "Accepted"
        await command(registered, "SetDisplayMessage", {"message": message})
        assert (await command(registered, "GetDisplayMessages", {"requestId": 4}))[
            "status"
        ] == "Accepted"
        await command(
            registered,
            "CustomerInformation",
            {
                "requestId": 5,
                "report": True,
                "clear": False,
                "idToken": {"idToken": TAG, "type": "ISO14443"},
            },
        )
        await command(
            registered,
            "SetChargingProfile",
            {"evseId": 0, "chargingProfile": profile_201(4, "ChargingStationMaxProfile", 16.0)},
        )
        assert (
            await command(
                registered,
                "GetChargingProfiles",
                {"requestId": 6, "chargingProfile": {"chargingLimitSource": ["CSO"]}},
            )
        )["status"] == "Accepted"
        await command(
            registered,
            "PublishFirmware",
            {"location": "http://fw.example/fw-2.0.0.bin", "checksum": "abc", "requestId": 7},
        )
        await sim.limit_locally(11000.0)
        await sim.limit_locally(None)
        await sim.security_event("TamperDetectionActivated", "cover opened")

        async def all_kept():
            found = await kept(registered)
            published = found.get(EventKind.PUBLISH_FIRMWARE_STATUS, [])
            return found if any("Published" in s for s in published) else None

        found = await eventually(all_kept)

    assert found[EventKind.MONITORING_REPORT] == ["NotifyMonitoringReport"]
    assert found[EventKind.DISPLAY_MESSAGES] == ["NotifyDisplayMessages: 1 item(s)"]
    assert found[EventKind.CUSTOMER_INFORMATION] == ["NotifyCustomerInformation"]
    assert found[EventKind.CHARGING_PROFILES_REPORT] == ["ReportChargingProfiles: 1 item(s)"]
    assert found[EventKind.CHARGING_LIMIT] == ["NotifyChargingLimit"]
    assert found[EventKind.CHARGING_LIMIT_CLEARED] == ["ClearedChargingLimit"]
    assert found[EventKind.SECURITY_EVENT] == ["TamperDetectionActivated"]
    assert found[EventKind.PUBLISH_FIRMWARE_STATUS] == [
        "PublishFirmwareStatusNotification: Downloading",
        "PublishFirmwareStatusNotification: Downloaded",
        "PublishFirmwareStatusNotification: ChecksumVerified",
        "PublishFirmwareStatusNotification: Published",
    ]
