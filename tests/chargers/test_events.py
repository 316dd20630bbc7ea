"""The charger domain's events: every class round-trips through its JSON form, and the
portal and webhook flags they carry are the ones the contracts promise."""

from datetime import UTC, datetime
from decimal import Decimal

from billing.events import CdrIssued, SessionCostUpdated
from chargers.alerts.events import AlertOpened, AlertResolved
from chargers.events import (
    ChargerBooted,
    ChargerEventRecorded,
    ChargerOffline,
    ChargerOnline,
    CommandFinished,
    ConnectorStatusReported,
    DeviceModelReported,
    HandshakeRefused,
    IdTokenBlocked,
    OperationStatusReported,
    SessionStarted,
    SessionStopped,
    SessionUpdated,
)
from chargers.firmware.events import (
    CampaignStateChanged,
    DiagnosticsStateChanged,
    TargetStateChanged,
)
from chargers.local_lists.events import LocalListSynced
from chargers.reservations.events import ReservationChanged
from chargers.smart_charging.events import LoadPlanChanged, SiteLimitsChanged
from cpms.events import catalogue, event_class
from tests.chargers.portal_events import PORTAL_EVENTS

AT = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
SESSION = {
    "session_id": 9,
    "charger_id": 1,
    "transaction_id": "9",
    "evse_id": 1,
    "id_tag": "04AABBCC",
    "state": "completed",
    "energy_wh": Decimal("1234.500"),
    "power_w": None,
    "started_at": AT,
    "stopped_at": AT,
    "stop_reason": "Local",
}
ALERT = {"alert_id": 3, "kind": "charger_offline", "severity": "warning", "title": "t"}

# One of each event, as a service would publish it: a new event class needs one here.
SAMPLES = [
    ChargerOnline(tenant_id=1, charger_id=1, identity="CP-1", ocpp_version="2.0.1"),
    ChargerOnline(tenant_id=1, charger_id=1, identity="CP-1"),
    ChargerOffline(tenant_id=1, charger_id=1, identity="CP-1"),
    ChargerBooted(
        tenant_id=1,
        charger_id=1,
        identity="CP-1",
        status="Accepted",
        changes={"firmware_version": ["1.0", "1.1"]},
        firmware_version="1.1",
        previous_boot_at=AT,
    ),
    ChargerBooted(
        tenant_id=1,
        charger_id=1,
        identity="CP-1",
        status="Pending",
        changes={},
        firmware_version="",
        previous_boot_at=None,
    ),
    ConnectorStatusReported(
        tenant_id=1,
        charger_id=1,
        evse_id=1,
        connector_id=1,
        status="Faulted",
        error_code="GroundFailure",
        info="",
        vendor_id="",
        vendor_error_code="",
        at=AT,
    ),
    ChargerEventRecorded(
        tenant_id=1,
        charger_id=1,
        event_id=5,
        kind="security_event",
        summary="FirmwareTampered",
        critical=True,
        at=AT,
    ),
    HandshakeRefused(tenant_id=None, reason="unknown_tenant", identity="X", remote_addr="", at=AT),
    CommandFinished(tenant_id=1, command_id=9, charger_id=1, action="Reset", status="answered"),
    DeviceModelReported(tenant_id=1, charger_id=1, attributes=12),
    CdrIssued(
        tenant_id=1,
        cdr_id=3,
        session_id=7,
        charger_id=1,
        version=2,
        supersedes=2,
        currency="EUR",
        total_excl_vat=Decimal("6.00"),
        total_incl_vat=Decimal("7.14"),
        total_energy=Decimal("20.000000"),
        start_date_time=datetime(2026, 5, 4, 3, tzinfo=UTC),
        end_date_time=datetime(2026, 5, 4, 4, tzinfo=UTC),
        issued_at=datetime(2026, 5, 4, 4, 0, 2, tzinfo=UTC),
    ),  # fmt: skip
    SessionCostUpdated(
        tenant_id=1,
        session_id=7,
        charger_id=1,
        currency="EUR",
        total_incl_vat=Decimal("4.57"),
        text="€4.57",
    ),
    SiteLimitsChanged(tenant_id=1, site_id=2, what="circuit Board B"),
    LoadPlanChanged(
        tenant_id=1,
        site_id=2,
        plan_id=9,
        trigger="session.started",
        sessions=6,
        paused=1,
        planned_a=32.0,
        limit_a=None,
    ),
    OperationStatusReported(
        tenant_id=1, charger_id=1, operation="firmware", status="Downloading", stage="downloading"
    ),
    OperationStatusReported(
        tenant_id=1,
        charger_id=1,
        operation="upload",
        status="UploadFailure",
        stage="failed",
        request_id=7,
    ),
    CampaignStateChanged(
        tenant_id=1,
        campaign_id=2,
        campaign_name="AC22 to 2.4.1",
        state="paused",
        reason="Wave 1: 3 of 20 chargers failed, more than 10%.",
        version="2.4.1",
    ),
    TargetStateChanged(
        tenant_id=1,
        campaign_id=2,
        charger_id=1,
        wave=1,
        state="failed",
        attempt=2,
        detail="Reported Installed but booted on 2.3.0, not 2.4.1.",
    ),
    DiagnosticsStateChanged(
        tenant_id=1, diagnostics_id=4, charger_id=1, state="uploaded", error=""
    ),
    ReservationChanged(
        tenant_id=1,
        reservation_id=6,
        charger_id=1,
        evse_id=None,
        id_tag="04A1B2C3D4",
        status="used",
        charger_status="Accepted",
        detail="",
        expires_at=AT,
        session_id=9,
    ),
    IdTokenBlocked(tenant_id=1, token_id=3, uid="04AABBCC"),
    LocalListSynced(tenant_id=1, charger_id=1, outcome="in_sync", version=3, entries=12),
    SessionStarted(tenant_id=1, **{**SESSION, "state": "active", "stopped_at": None}),
    SessionUpdated(tenant_id=1, **{**SESSION, "power_w": Decimal("7200.000")}),
    SessionStopped(tenant_id=1, **SESSION),
    AlertOpened(tenant_id=1, **ALERT, charger_id=1, open_alerts=1),
    AlertResolved(tenant_id=1, **ALERT, charger_id=None, open_alerts=0),
]


def test_every_event_class_has_a_sample():
    product = {cls for cls in catalogue() if not cls.name.startswith("test.")}
    assert {type(event) for event in SAMPLES} == product


def test_every_event_comes_back_from_its_name_and_data_as_a_task_receives_them():
    for event in SAMPLES:
        again = event_class(event.name).from_data(event.data(), tenant_id=event.tenant_id)
        assert again == event


def test_the_json_form_keeps_the_formats_the_pages_and_integrators_read():
    stopped = SAMPLES[-3].data()
    assert stopped["energy_wh"] == "1234.500" and stopped["power_w"] is None
    assert stopped["started_at"] == "2026-05-04T03:02:01.123456+00:00"
    assert "ocpp_version" not in SAMPLES[1].data()
    assert SAMPLES[4].data()["previous_boot_at"] is None


def test_site_owners_hear_of_their_chargers_state_and_sessions_only():
    portal = {cls.name for cls in catalogue() if cls.portal}
    assert portal == PORTAL_EVENTS


def test_every_portal_event_names_its_charger():
    # The live channel lets a site owner hear an event only of one of their chargers.
    for cls in catalogue():
        if cls.portal:
            assert "charger_id" in dict(cls.data_fields()), cls.name
