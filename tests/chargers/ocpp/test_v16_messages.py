"""Every message a 1.6 charger sends: answered per the standard and persisted exactly once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call

from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    Connector,
    EventKind,
    IdToken,
    MeterSample,
    OcppMessage,
    RegistrationStatus,
    SessionState,
    StatusEvent,
)
from chargers.services.chargers import charger_set_registration
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import connected, now

pytestmark = pytest.mark.django_db(transaction=True)


def energy_sample(timestamp, wh, power_w=None, context=None):
    values = [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    if power_w is not None:
        values.append({"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"})
    if context:
        for value in values:
            value["context"] = context
    return {"timestamp": timestamp, "sampledValue": values}


async def start_then_meter(cp, meter_start, reading):
    """A session started on connector 1 at `meter_start` Wh, then one meter reading:
    `reading(timestamp)`, stamped once the session has started."""
    start = await cp.call(
        call.StartTransaction(
            connector_id=1, id_tag="OK-1", meter_start=meter_start, timestamp=now()
        )
    )
    await cp.call(
        call.MeterValues(
            connector_id=1, transaction_id=start.transaction_id, meter_value=[reading(now())]
        )
    )


async def test_boot_is_accepted_with_the_tenants_interval_and_kept(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        reply = await cp.boot(
            charge_point_serial_number="SN-1",
            firmware_version="1.0",
            iccid="8931",
            imsi="2620",
            meter_type="EEM",
            meter_serial_number="M-7",
        )
    assert (reply.status, reply.interval) == ("Accepted", 300)
    stored = await in_a(tenant_a, lambda: Charger.objects.get(identity="CP-1"))
    assert (
        stored.vendor,
        stored.model,
        stored.serial_number,
        stored.firmware_version,
        stored.iccid,
        stored.imsi,
        stored.meter_type,
        stored.meter_serial_number,
    ) == ("Acme", "Wallbox 22", "SN-1", "1.0", "8931", "2620", "EEM", "M-7")
    assert stored.ocpp_version == "1.6" and stored.last_boot_at is not None


async def test_a_second_boot_records_what_changed(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot(firmware_version="1.0")
        await cp.boot(firmware_version="1.1")
    boots = await in_a(tenant_a, lambda: list(ChargerBoot.objects.order_by("at")))
    assert len(boots) == 2
    assert boots[1].changes == {"firmware_version": ["1.0", "1.1"]}


async def test_a_rejected_charger_is_told_so_and_may_send_nothing_else(
    ocpp_server, tenant_a, make_charger
):
    await sync_to_async(make_charger)(tenant_a, registration_status=RegistrationStatus.REJECTED)
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).status == "Rejected"
        from ocpp.exceptions import SecurityError

        with pytest.raises(SecurityError):
            await cp.call(call.Heartbeat(), suppress=False)


async def test_a_pending_charger_is_accepted_once_an_operator_approves(
    ocpp_server, tenant_a, make_charger
):
    pending = await sync_to_async(make_charger)(
        tenant_a, registration_status=RegistrationStatus.PENDING
    )
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        reply = await cp.boot()
        assert (reply.status, reply.interval) == ("Pending", 60)
        from ocpp.exceptions import SecurityError

        with pytest.raises(SecurityError):
            await cp.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Available"),
                suppress=False,
            )
        await in_a(
            tenant_a,
            lambda: charger_set_registration(charger=pending, status=RegistrationStatus.ACCEPTED),
        )
        assert (await cp.boot()).status == "Accepted"
        assert (await cp.call(call.Heartbeat())).current_time


async def test_heartbeat_answers_the_time_and_refreshes_last_seen(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.Heartbeat())
    answered = datetime.fromisoformat(reply.current_time)
    assert abs(answered - datetime.now(UTC)) < timedelta(seconds=5)
    stored = await in_a(tenant_a, lambda: Charger.objects.get())
    assert stored.last_seen is not None


async def test_status_of_every_connector_including_zero_is_kept_with_history(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.StatusNotification(connector_id=0, error_code="NoError", status="Available")
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=now()
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="GroundFailure",
                status="Faulted",
                info="RCD tripped",
                vendor_id="Acme",
                vendor_error_code="E42",
                timestamp=now(),
            )
        )
    connectors = await in_a(
        tenant_a,
        lambda: list(
            Connector.objects.values_list(
                "evse_id", "connector_id", "status", "error_code", "info", "vendor_error_code"
            )
        ),
    )
    assert connectors == [
        (0, 0, "Available", "", "", ""),
        (1, 1, "Faulted", "GroundFailure", "RCD tripped", "E42"),
    ]
    history = await in_a(tenant_a, lambda: StatusEvent.objects.filter(evse_id=1).count())
    assert history == 2


@pytest.fixture
def tokens(tenant_a, transactional_db):
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="GROUP-1")
        IdToken.objects.create(
            uid="OK-1", group=group, expires_at=datetime.now(UTC) + timedelta(days=30)
        )
        IdToken.objects.create(uid="BLOCKED-1", blocked=True)
        IdToken.objects.create(uid="EXPIRED-1", expires_at=datetime.now(UTC) - timedelta(days=1))


@pytest.mark.parametrize(
    "id_tag,status",
    [
        ("OK-1", "Accepted"),
        ("ok-1", "Accepted"),
        ("BLOCKED-1", "Blocked"),
        ("EXPIRED-1", "Expired"),
        ("NOBODY", "Invalid"),
    ],
)
async def test_authorize_answers_the_tenants_verdict(
    ocpp_server, tenant_a, charger, tokens, id_tag, status
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.Authorize(id_tag=id_tag))
    assert reply.id_tag_info["status"] == status
    if status == "Accepted":
        assert reply.id_tag_info["parent_id_tag"] == "GROUP-1"
        assert "expiry_date" in reply.id_tag_info


async def test_another_tenants_token_is_invalid_here(ocpp_server, tenant_a, tenant_b, charger):
    with scoping.scope(tenant_b):
        await sync_to_async(IdToken.objects.create)(uid="B-CARD")
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.Authorize(id_tag="B-CARD"))
    assert reply.id_tag_info["status"] == "Invalid"


async def test_a_whole_session_is_kept_once_whatever_the_charger_resends(
    ocpp_server, tenant_a, charger, tokens
):
    started = datetime.now(UTC).replace(microsecond=0)
    t = [(started + timedelta(minutes=m)).isoformat() for m in range(4)]
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        start = call.StartTransaction(
            connector_id=1, id_tag="OK-1", meter_start=1000, timestamp=t[0]
        )
        first = await cp.call(start)
        again = await cp.call(start)
        assert first.transaction_id == again.transaction_id
        assert first.id_tag_info["status"] == "Accepted"
        tx = first.transaction_id
        values = call.MeterValues(
            connector_id=1,
            transaction_id=tx,
            meter_value=[energy_sample(t[1], 4000, 11000), energy_sample(t[2], 7000, 11000)],
        )
        await cp.call(values)
        await cp.call(values)
        stop = call.StopTransaction(
            meter_stop=9500,
            timestamp=t[3],
            transaction_id=tx,
            reason="EVDisconnected",
            id_tag="OK-1",
            transaction_data=[energy_sample(t[3], 9500)],
        )
        stopped = await cp.call(stop)
        assert stopped.id_tag_info["status"] == "Accepted"
        await cp.call(stop)
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.transaction_id == str(tx)
    assert session.state == SessionState.COMPLETED
    assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (
        Decimal(1000),
        Decimal(9500),
        Decimal(8500),
    )
    assert session.stop_reason == "EVDisconnected" and session.id_token_id is not None
    assert session.started_at == started
    samples = await in_a(tenant_a, lambda: MeterSample.objects.filter(session=session).count())
    assert samples == 5  # two readings of two measurands, plus the stop's register reading


# The ends of what a charger's clock can say, in UTC and where UTC is no datetime at all.
BROKEN_CLOCKS = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+01:00",
]


@pytest.mark.parametrize("broken", BROKEN_CLOCKS)
async def test_a_session_from_a_broken_clock_is_dated_when_received_and_flagged(
    ocpp_server, tenant_a, charger, tokens, broken
):
    before = datetime.now(UTC)
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        start = call.StartTransaction(
            connector_id=1, id_tag="OK-1", meter_start=1000, timestamp=broken
        )
        first = await cp.call(start)
        again = await cp.call(start)  # a resend, later: still the same start
        assert first.id_tag_info["status"] == "Accepted"
        assert first.transaction_id == again.transaction_id
        tx = first.transaction_id
        await cp.call(
            call.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=[energy_sample(broken, 4000, 11000)]
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp=broken
            )
        )
        stopped = await cp.call(
            call.StopTransaction(
                meter_stop=9500,
                timestamp=broken,
                transaction_id=tx,
                transaction_data=[energy_sample(broken, 9500)],
            )
        )
        assert stopped is not None
    after = datetime.now(UTC)
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert before <= session.started_at <= session.stopped_at <= after
    assert session.timestamp_suspect and session.state == SessionState.COMPLETED
    assert session.energy_wh == Decimal(8500)
    samples = await in_a(
        tenant_a, lambda: list(MeterSample.objects.values_list("timestamp", "timestamp_suspect"))
    )
    assert len(samples) == 3 and all(before <= at <= after and flag for at, flag in samples)
    status = await in_a(tenant_a, lambda: StatusEvent.objects.get())
    connector = await in_a(tenant_a, lambda: Connector.objects.get(evse_id=1))
    assert before <= status.timestamp == connector.status_at <= after and status.timestamp_suspect

    # The message log keeps what the charger sent, for support.
    async def start_logged():
        return await in_a(
            tenant_a,
            lambda: OcppMessage.objects.filter(
                action="StartTransaction", body__contains=broken
            ).exists(),
        )

    await eventually(start_logged, what="the start in the message log")


async def test_a_running_sessions_energy_and_power_follow_its_meter_values(
    ocpp_server, tenant_a, charger, tokens
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await start_then_meter(cp, 500, lambda at: energy_sample(at, 2500, 7400))
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.state == SessionState.ACTIVE
    assert (session.energy_wh, session.power_w) == (Decimal(2000), Decimal(7400))


async def test_meter_values_in_kwh_are_converted(ocpp_server, tenant_a, charger, tokens):
    def in_kwh(at):
        return {
            "timestamp": at,
            "sampledValue": [
                {"value": "3.5", "unit": "kWh"},
                {"value": "7.2", "unit": "kW", "measurand": "Power.Active.Import"},
            ],
        }

    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await start_then_meter(cp, 1000, in_kwh)
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert (session.energy_wh, session.power_w) == (Decimal(2500), Decimal(7200))


async def test_every_sample_field_is_kept_in_and_out_of_transactions(
    ocpp_server, tenant_a, charger
):
    sample = {
        "value": "231.5",
        "context": "Sample.Clock",
        "format": "Raw",
        "measurand": "Voltage",
        "phase": "L1-N",
        "location": "Inlet",
        "unit": "V",
    }
    signed = {
        "value": "AbCdEf==",
        "format": "SignedData",
        "measurand": "Energy.Active.Import.Register",
    }
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.MeterValues(
                connector_id=0, meter_value=[{"timestamp": now(), "sampledValue": [sample, signed]}]
            )
        )
    rows = await in_a(
        tenant_a,
        lambda: list(
            MeterSample.objects.order_by("measurand").values(
                "evse_id",
                "session",
                "measurand",
                "phase",
                "location",
                "context",
                "unit",
                "value",
                "signed_data",
            )
        ),
    )
    assert rows[0]["signed_data"] == "AbCdEf==" and rows[0]["value"] is None
    assert rows[1] == {
        "evse_id": 0,
        "session": None,
        "measurand": "Voltage",
        "phase": "L1-N",
        "location": "Inlet",
        "context": "Sample.Clock",
        "unit": "V",
        "value": Decimal("231.5"),
        "signed_data": "",
    }


async def test_a_stop_for_an_unknown_transaction_is_answered_and_kept_aside(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(
            call.StopTransaction(meter_stop=10, timestamp=now(), transaction_id=424242, id_tag="X"),
            suppress=False,
        )
    assert reply.id_tag_info["status"] == "Invalid"
    kept = await in_a(tenant_a, lambda: ChargerEvent.objects.get(kind=EventKind.UNMATCHED))
    assert kept.payload["transactionId"] == 424242


async def test_a_start_on_connector_zero_is_a_property_violation(ocpp_server, tenant_a, charger):
    from ocpp.exceptions import PropertyConstraintViolationError

    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        with pytest.raises(PropertyConstraintViolationError):
            await cp.call(
                call.StartTransaction(connector_id=0, id_tag="X", meter_start=0, timestamp=now()),
                suppress=False,
            )
    assert await in_a(tenant_a, lambda: ChargingSession.objects.count()) == 0


async def test_a_status_far_in_the_future_is_dated_when_received_and_flagged(
    ocpp_server, tenant_a, charger
):
    future = datetime(2099, 1, 1, tzinfo=UTC)
    before = datetime.now(UTC)
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Available",
                timestamp=future.isoformat(),
            )
        )
    event = await in_a(tenant_a, lambda: StatusEvent.objects.get())
    # Not 2099: a later status would not win until then.
    assert before <= event.timestamp <= datetime.now(UTC) and event.timestamp_suspect


@pytest.mark.parametrize(
    "message,kind,field,value,critical",
    [
        (
            call.DataTransfer(vendor_id="com.acme", message_id="ping", data="x"),
            EventKind.DATA_TRANSFER,
            None,
            None,
            False,
        ),
        (
            call.DiagnosticsStatusNotification(status="Uploaded"),
            EventKind.DIAGNOSTICS_STATUS,
            "diagnostics_status",
            "Uploaded",
            False,
        ),
        (
            call.FirmwareStatusNotification(status="Installing"),
            EventKind.FIRMWARE_STATUS,
            "firmware_status",
            "Installing",
            False,
        ),
        (
            call.SecurityEventNotification(
                type="TamperDetectionActivated", timestamp=now(), tech_info="lid"
            ),
            EventKind.SECURITY_EVENT,
            None,
            None,
            True,
        ),
        (
            call.SecurityEventNotification(type="InvalidMessages", timestamp=now(), tech_info=None),
            EventKind.SECURITY_EVENT,
            None,
            None,
            False,
        ),
        (
            call.SignCertificate(csr="-----BEGIN CERTIFICATE REQUEST-----"),
            EventKind.SIGN_CERTIFICATE,
            None,
            None,
            False,
        ),
        (
            call.LogStatusNotification(status="Uploaded", request_id=3),
            EventKind.LOG_STATUS,
            None,
            None,
            False,
        ),
        (
            call.SignedFirmwareStatusNotification(status="SignatureVerified", request_id=4),
            EventKind.SIGNED_FIRMWARE_STATUS,
            "firmware_status",
            "SignatureVerified",
            False,
        ),
    ],
)
async def test_notifications_are_answered_and_kept(
    ocpp_server, tenant_a, charger, message, kind, field, value, critical
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(message, suppress=False)
    assert reply is not None
    event = await in_a(tenant_a, lambda: ChargerEvent.objects.get(kind=kind))
    assert event.critical is critical
    if field:
        stored = await in_a(tenant_a, lambda: Charger.objects.get())
        assert getattr(stored, field) == value


async def test_data_transfer_says_the_vendor_is_unknown(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.DataTransfer(vendor_id="com.acme"))
    assert reply.status == "UnknownVendorId"


async def test_sign_certificate_rejects_what_is_not_a_csr(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(call.SignCertificate(csr="csr"))
    assert reply.status == "Rejected"
    event = await in_a(tenant_a, lambda: ChargerEvent.objects.get(kind=EventKind.SIGN_CERTIFICATE))
    assert event.summary == "CSR rejected: not a PEM certificate signing request"
