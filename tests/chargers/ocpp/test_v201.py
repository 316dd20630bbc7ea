"""OCPP 2.0.1 and 2.1 on the same endpoint and in the same tables as 1.6."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.exceptions import SecurityError
from ocpp.v16 import call as call16
from ocpp.v201 import call

from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    Connector,
    DeviceModelVariable,
    EventKind,
    IdToken,
    MeterSample,
    RegistrationStatus,
    SessionState,
    TransactionEventRecord,
)
from chargers.services.fleet_settings import fleet_settings_update
from cpms.tenancy import scoping
from tests.aio import in_a
from tests.chargers.ocpp.clients import basic, connected, exchange, raw_socket, refused_status
from tests.chargers.ocpp.clients201 import TestCharger21, connected201, new_transaction_id, now

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tokens(tenant_a, transactional_db):
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="GROUP-1")
        IdToken.objects.create(uid="OK-1", group=group)
        IdToken.objects.create(uid="BLOCKED-1", blocked=True)


async def test_a_201_charger_boots_and_its_station_is_kept(ocpp_server, tenant_a, charger):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        assert cp._connection.subprotocol == "ocpp2.0.1"
        reply = await cp.boot(
            serial_number="SN-9", firmware_version="2.4", modem={"iccid": "8931", "imsi": "2620"}
        )
    assert (reply.status, reply.interval) == ("Accepted", 300)
    stored = await in_a(tenant_a, lambda: Charger.objects.get())
    assert (
        stored.ocpp_version,
        stored.vendor,
        stored.serial_number,
        stored.firmware_version,
        stored.iccid,
    ) == ("2.0.1", "Acme", "SN-9", "2.4", "8931")
    boot = await in_a(tenant_a, lambda: ChargerBoot.objects.get())
    assert boot.reason == "PowerUp"


async def test_before_accepted_everything_but_boot_is_a_security_error(
    ocpp_server, tenant_a, make_charger
):
    await sync_to_async(make_charger)(tenant_a, registration_status=RegistrationStatus.PENDING)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Pending"
        with pytest.raises(SecurityError):
            await cp.call(call.Heartbeat(), suppress=False)


async def test_status_is_kept_per_evse_and_connector(ocpp_server, tenant_a, charger):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.StatusNotification(
                timestamp=now(), connector_status="Occupied", evse_id=2, connector_id=1
            )
        )
    connector = await in_a(tenant_a, lambda: Connector.objects.get())
    assert (connector.evse_id, connector.connector_id, connector.status) == (2, 1, "Occupied")


@pytest.mark.parametrize(
    "token,status", [("OK-1", "Accepted"), ("BLOCKED-1", "Blocked"), ("NOBODY", "Unknown")]
)
async def test_authorize_answers_with_201_statuses(
    ocpp_server, tenant_a, charger, tokens, token, status
):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.Authorize(id_token={"id_token": token, "type": "ISO14443"}))
    assert reply.id_token_info["status"] == status
    if status == "Accepted":
        assert reply.id_token_info["group_id_token"]["id_token"] == "GROUP-1"


async def test_a_whole_transaction_is_one_session_whatever_is_resent(
    ocpp_server, tenant_a, charger, tokens
):
    tx = new_transaction_id()
    t0 = datetime.now(UTC).replace(microsecond=0)
    at = [(t0 + timedelta(minutes=m)).isoformat() for m in range(4)]
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        started = await cp.tx(
            "Started",
            0,
            tx,
            timestamp=at[0],
            id_token="OK-1",
            meter=1000,
            charging_state="Charging",
        )
        assert started.id_token_info["status"] == "Accepted"
        await cp.tx("Started", 0, tx, timestamp=at[0], id_token="OK-1", meter=1000)  # resend
        await cp.tx("Updated", 1, tx, timestamp=at[1], trigger="MeterValuePeriodic", meter=4000)
        await cp.tx("Updated", 1, tx, timestamp=at[1], trigger="MeterValuePeriodic", meter=4000)
        await cp.tx("Updated", 5, tx, timestamp=at[2], trigger="MeterValuePeriodic", meter=7000)
        await cp.tx(
            "Ended",
            6,
            tx,
            timestamp=at[3],
            trigger="EVCommunicationLost",
            meter=9500,
            stopped_reason="EVDisconnected",
        )
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert (session.state, session.stop_reason, session.energy_wh) == (
        SessionState.COMPLETED,
        "EVDisconnected",
        Decimal(8500),
    )
    assert session.started_at == t0 and session.stopped_at == t0 + timedelta(minutes=3)
    events = await in_a(
        tenant_a, lambda: list(TransactionEventRecord.objects.values_list("seq_no", flat=True))
    )
    assert events == [0, 1, 5, 6]
    assert await in_a(tenant_a, lambda: MeterSample.objects.filter(session=session).count()) == 4


@pytest.mark.parametrize(
    "broken",
    [
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+01:00",
    ],
)
async def test_a_transaction_from_a_broken_clock_is_dated_when_received_and_flagged(
    ocpp_server, tenant_a, charger, tokens, broken
):
    tx = new_transaction_id()
    before = datetime.now(UTC)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        started = await cp.tx("Started", 0, tx, timestamp=broken, id_token="OK-1", meter=1000)
        assert started.id_token_info["status"] == "Accepted"
        await cp.tx("Started", 0, tx, timestamp=broken, id_token="OK-1", meter=1000)  # resend
        await cp.tx("Ended", 1, tx, timestamp=broken, meter=9500, stopped_reason="Local")
    after = datetime.now(UTC)
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert before <= session.started_at <= session.stopped_at <= after
    assert session.timestamp_suspect and session.state == SessionState.COMPLETED
    assert session.energy_wh == Decimal(8500)
    records = await in_a(
        tenant_a,
        lambda: list(
            TransactionEventRecord.objects.values_list("seq_no", "timestamp", "timestamp_as_sent")
        ),
    )
    assert [seq_no for seq_no, _, _ in records] == [0, 1]
    # The records keep the charger's time as sent, beside the receipt time they are dated by.
    for _, at, as_sent in records:
        assert before <= at <= after
        assert datetime.fromisoformat(as_sent) == datetime.fromisoformat(broken)
    samples = await in_a(
        tenant_a, lambda: list(MeterSample.objects.values_list("timestamp", "timestamp_suspect"))
    )
    assert len(samples) == 2 and all(before <= at <= after and flag for at, flag in samples)


async def test_a_transaction_queued_offline_is_closed_when_delivered(
    ocpp_server, tenant_a, charger, tokens
):
    tx = new_transaction_id()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=20)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        # After a long outage the charger delivers its queue; the Ended overtakes the Started.
        await cp.tx(
            "Ended",
            2,
            tx,
            timestamp=(t0 + timedelta(hours=2)).isoformat(),
            meter=25000,
            stopped_reason="Local",
            offline=True,
        )
        await cp.tx(
            "Started", 0, tx, timestamp=t0.isoformat(), id_token="OK-1", meter=5000, offline=True
        )
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.state == SessionState.COMPLETED
    assert (session.started_at, session.energy_wh, session.id_tag) == (t0, Decimal(20000), "OK-1")


async def test_the_same_charging_in_16_and_201_gives_identical_sessions(
    ocpp_server, tenant_a, make_charger, tokens
):
    await sync_to_async(make_charger)(tenant_a, identity="OLD")
    await sync_to_async(make_charger)(tenant_a, identity="NEW")
    t0 = datetime.now(UTC).replace(microsecond=0)
    start, stop = t0.isoformat(), (t0 + timedelta(minutes=42)).isoformat()
    async with connected(ocpp_server, "tenant-a", "OLD") as cp16:
        await cp16.boot()
        begun = await cp16.call(
            call16.StartTransaction(
                connector_id=1, id_tag="OK-1", meter_start=1000, timestamp=start
            )
        )
        await cp16.call(
            call16.StopTransaction(
                meter_stop=9500,
                timestamp=stop,
                id_tag="OK-1",
                transaction_id=begun.transaction_id,
                reason="EVDisconnected",
            )
        )
    async with connected201(ocpp_server, "tenant-a", "NEW") as cp201:
        await cp201.boot()
        tx = new_transaction_id()
        await cp201.tx("Started", 0, tx, timestamp=start, id_token="OK-1", meter=1000)
        await cp201.tx("Ended", 1, tx, timestamp=stop, meter=9500, stopped_reason="EVDisconnected")
    fields = (
        "evse_id",
        "connector_id",
        "state",
        "id_tag",
        "id_token_id",
        "auth_status",
        "started_at",
        "stopped_at",
        "meter_start_wh",
        "meter_stop_wh",
        "energy_wh",
        "stop_reason",
    )
    rows = await in_a(
        tenant_a,
        lambda: {
            s.charger.identity: tuple(getattr(s, f) for f in fields)
            for s in ChargingSession.objects.select_related("charger")
        },
    )
    assert rows["OLD"] == rows["NEW"]


async def test_a_21_charger_boots_and_charges(ocpp_server, tenant_a, charger, tokens):
    tx = new_transaction_id()
    async with connected201(
        ocpp_server, "tenant-a", "CP-1", subprotocols=("ocpp2.1",), charger_class=TestCharger21
    ) as cp:
        assert cp._connection.subprotocol == "ocpp2.1"
        assert (await cp.boot()).status == "Accepted"
        await cp.tx("Started", 0, tx, id_token="OK-1", meter=100)
        await cp.tx("Ended", 1, tx, meter=2100, stopped_reason="Local")
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert (session.energy_wh, session.state) == (Decimal(2000), SessionState.COMPLETED)
    assert (await in_a(tenant_a, lambda: Charger.objects.get())).ocpp_version == "2.1"


async def test_a_report_fills_the_browsable_device_model(ocpp_server, tenant_a, charger):
    report = [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
            "variable_attribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"}],
            "variable_characteristics": {
                "data_type": "integer",
                "unit": "s",
                "supports_monitoring": False,
            },
        },
        {
            "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
            "variable": {"name": "AvailabilityState"},
            "variable_attribute": [
                {"type": "Actual", "value": "Available", "mutability": "ReadOnly"}
            ],
        },
    ]
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.NotifyReport(request_id=1, generated_at=now(), seq_no=0, report_data=report)
        )
        report[0]["variable_attribute"][0]["value"] = "120"
        await cp.call(
            call.NotifyReport(request_id=2, generated_at=now(), seq_no=0, report_data=report[:1])
        )
    rows = await in_a(
        tenant_a,
        lambda: list(
            DeviceModelVariable.objects.values_list(
                "component", "evse_id", "variable", "value", "mutability"
            )
        ),
    )
    assert rows == [
        ("Connector", 1, "AvailabilityState", "Available", "ReadOnly"),
        ("OCPPCommCtrlr", 0, "HeartbeatInterval", "120", "ReadWrite"),
    ]


NOTIFICATIONS = [
    (
        call.NotifyEvent(
            generated_at=now(),
            seq_no=0,
            event_data=[
                {
                    "event_id": 1,
                    "timestamp": now(),
                    "trigger": "Delta",
                    "actual_value": "Faulted",
                    "event_notification_type": "HardWiredNotification",
                    "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
                    "variable": {"name": "AvailabilityState"},
                }
            ],
        ),
        EventKind.NOTIFY_EVENT,
    ),
    (
        call.NotifyMonitoringReport(request_id=1, seq_no=0, generated_at=now()),
        EventKind.MONITORING_REPORT,
    ),
    (
        call.SecurityEventNotification(type="TamperDetectionActivated", timestamp=now()),
        EventKind.SECURITY_EVENT,
    ),
    (call.FirmwareStatusNotification(status="Installed"), EventKind.FIRMWARE_STATUS),
    (call.LogStatusNotification(status="Uploaded", request_id=1), EventKind.LOG_STATUS),
    (
        call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=1),
        EventKind.CHARGING_LIMIT,
    ),
    (
        call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1),
        EventKind.CHARGING_LIMIT_CLEARED,
    ),
    (
        call.NotifyEVChargingNeeds(
            evse_id=1, charging_needs={"requested_energy_transfer": "AC_three_phase"}
        ),
        EventKind.EV_CHARGING_NEEDS,
    ),
    (
        call.NotifyEVChargingSchedule(
            time_base=now(),
            evse_id=1,
            charging_schedule={
                "id": 1,
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
            },
        ),
        EventKind.EV_CHARGING_SCHEDULE,
    ),
    (
        call.ReportChargingProfiles(
            request_id=1,
            charging_limit_source="CSO",
            evse_id=1,
            charging_profile=[
                {
                    "id": 1,
                    "stack_level": 0,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Absolute",
                    "charging_schedule": [
                        {
                            "id": 1,
                            "charging_rate_unit": "A",
                            "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
                        }
                    ],
                }
            ],
        ),
        EventKind.CHARGING_PROFILES_REPORT,
    ),
    (
        call.ReservationStatusUpdate(reservation_id=5, reservation_update_status="Expired"),
        EventKind.RESERVATION_STATUS,
    ),
    (call.NotifyDisplayMessages(request_id=1), EventKind.DISPLAY_MESSAGES),
    (
        call.NotifyCustomerInformation(data="x", seq_no=0, generated_at=now(), request_id=1),
        EventKind.CUSTOMER_INFORMATION,
    ),
    (call.DataTransfer(vendor_id="com.acme"), EventKind.DATA_TRANSFER),
    (call.SignCertificate(csr="csr"), EventKind.SIGN_CERTIFICATE),
    (
        call.Get15118EVCertificate(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
            action="Install",
            exi_request="AAAA",
        ),
        EventKind.EV_CERTIFICATE,
    ),
    (
        call.GetCertificateStatus(
            ocsp_request_data={
                "hash_algorithm": "SHA256",
                "issuer_name_hash": "a",
                "issuer_key_hash": "b",
                "serial_number": "1",
                "responder_url": "http://ocsp.example",
            }
        ),
        EventKind.CERTIFICATE_STATUS,
    ),
    (
        call.PublishFirmwareStatusNotification(
            status="Published", location=["http://x/fw"], request_id=1
        ),
        EventKind.PUBLISH_FIRMWARE_STATUS,
    ),
]


@pytest.mark.parametrize(
    "message,kind", NOTIFICATIONS, ids=[m.__class__.__name__ for m, _ in NOTIFICATIONS]
)
async def test_every_201_notification_is_answered_and_kept(
    ocpp_server, tenant_a, charger, message, kind
):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        # The library validates our reply against the 2.0.1 schema before returning it.
        await cp.call(message, suppress=False)
    event = await in_a(tenant_a, lambda: ChargerEvent.objects.get(kind=kind))
    assert event.payload  # kept as sent
    if kind == EventKind.SECURITY_EVENT:
        assert event.critical


async def test_meter_values_outside_transactions_apply_the_multiplier(
    ocpp_server, tenant_a, charger
):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.MeterValues(
                evse_id=0,
                meter_value=[
                    {
                        "timestamp": now(),
                        "sampled_value": [
                            {"value": 12.5, "unit_of_measure": {"unit": "kWh", "multiplier": 3}}
                        ],
                    }
                ],
            )
        )
    sample = await in_a(tenant_a, lambda: MeterSample.objects.get())
    assert (sample.value, sample.unit, sample.session_id) == (Decimal(12500), "kWh", None)


BOOT = [
    2,
    "b",
    "BootNotification",
    {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
]


@pytest.mark.parametrize(
    "frame,expected_id,code",
    [
        ("not json", "-1", "RpcFrameworkError"),
        ("[2]", "-1", "RpcFrameworkError"),
        ([5, "m1", "Heartbeat", {}], "m1", "MessageTypeNotSupported"),
        ([2, "m2", "MakeCoffee", {}], "m2", "NotImplemented"),
        ([2, "m3", "Reset", {"type": "Immediate"}], "m3", "NotSupported"),
        ([2, "m4", "Authorize", {}], "m4", "OccurrenceConstraintViolation"),
        ([2, "m5", "Heartbeat", {"x": 1}], "m5", "FormatViolation"),
        (
            [2, "m6", "Authorize", {"idToken": {"idToken": 5, "type": "Local"}}],
            "m6",
            "TypeConstraintViolation",
        ),
        (
            [2, "m7", "Authorize", {"idToken": {"idToken": "x", "type": "Bogus"}}],
            "m7",
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_bad_201_frames_get_201_error_codes(
    ocpp_server, tenant_a, charger, frame, expected_id, code
):
    import websockets

    from tests.chargers.ocpp.clients import PASSWORD

    url = f"{ocpp_server}/ocpp/tenant-a/CP-1"
    async with websockets.connect(
        url, subprotocols=["ocpp2.0.1"], additional_headers=basic("CP-1", PASSWORD)
    ) as ws:
        await exchange(ws, BOOT)
        reply = await exchange(ws, frame)
        assert reply[:3] == [4, expected_id, code]
        assert (await exchange(ws, [2, "ok", "Heartbeat", {}]))[0] == 3


async def test_a_charger_may_switch_versions_by_default(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp16:
        await cp16.boot()
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp201:
        await cp201.boot()
    assert (await in_a(tenant_a, lambda: Charger.objects.get())).ocpp_version == "2.0.1"


async def test_a_tenant_can_refuse_version_switches(ocpp_server, tenant_a, charger):
    await sync_to_async(fleet_settings_update)(tenant=tenant_a, version_change="refuse")
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp16:
        await cp16.boot()
    from tests.chargers.ocpp.clients import PASSWORD

    status = await refused_status(
        ocpp_server, "tenant-a", "CP-1", basic("CP-1", PASSWORD), subprotocols=("ocpp2.0.1",)
    )
    assert status == 403
    # The registered version is still accepted, and preferred when both are offered.
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        assert ws.subprotocol == "ocpp1.6"
