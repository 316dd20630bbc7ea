"""Rows of a small fleet for the tests of pages (dashboard, alerts, the page matrix, browsers):
a charger at a site with a connector, a session with meter samples, an open alert; and the
status reports and meter samples a charger sends, one at a time. Call inside the tenant's
scope."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from chargers.alerts.models import Alert, AlertKind, Severity
from chargers.models import (
    Charger,
    ChargingSession,
    Connector,
    MeterSample,
    OcppVersion,
    SessionState,
    StatusEvent,
)

ENERGY = "Energy.Active.Import.Register"


def status_event(charger, status="Available", at=None, received_at=None, evse_id=1, **fields):
    """Connector 1 of `evse_id` reporting `status` at `at` (now unless given), received then
    unless `received_at` says otherwise (`error_code=` and the like as the test needs). Unsaved:
    `.save()` it, or bulk_create many."""
    at = at or timezone.now()
    return StatusEvent(
        tenant_id=charger.tenant_id,
        charger=charger,
        evse_id=evse_id,
        connector_id=1,
        status=status,
        timestamp=at,
        received_at=received_at or at,
        **fields,
    )


def meter_sample(charger, at, value, measurand=ENERGY, **fields):
    """EVSE 1's meter at `at` (`session=`, `unit=`, `context=` as the test needs). Unsaved,
    like `status_event`."""
    return MeterSample(
        tenant_id=charger.tenant_id,
        charger=charger,
        evse_id=1,
        timestamp=at,
        measurand=measurand,
        value=value,
        **fields,
    )


def make_fleet(site, identity="CP-A1", vendor="Acme", **charger_fields) -> dict:
    now = timezone.now()
    charger = Charger.objects.create(
        identity=identity,
        site=site,
        vendor=vendor,
        model="AC22",
        firmware_version="1.2.3",
        ocpp_version=OcppVersion.V16,
        is_online=True,
        last_seen=now,
        **charger_fields,
    )
    Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Charging")
    session = ChargingSession.objects.create(
        charger=charger,
        site=site,
        evse_id=1,
        connector_id=1,
        transaction_id="101",
        id_tag="04AABBCC",
        started_at=now - timedelta(minutes=20),
        meter_start_wh=Decimal(1000),
        meter_last_wh=Decimal(4500),
        energy_wh=Decimal(3500),
        power_w=Decimal(11000),
        state=SessionState.ACTIVE,
    )
    for minutes, register, power in [(15, 2000, 11000), (10, 3000, 11000), (5, 4500, 10800)]:
        at = now - timedelta(minutes=minutes)
        meter_sample(charger, at, register, session=session, unit="Wh").save()
        meter_sample(charger, at, power, "Power.Active.Import", session=session, unit="W").save()
    alert = Alert.objects.create(
        kind=AlertKind.CHARGER_OFFLINE,
        severity=Severity.WARNING,
        subject=f"charger:{charger.pk}",
        charger=charger,
        title=f"{identity} is offline",
        opened_at=now,
    )
    return {"charger": charger, "session": session, "alert": alert}


def make_load_tree(site, charger, session) -> dict:
    """A load-managed site's rows (a grid connection, a circuit, the charger's wiring, an
    evening window, a signal, a session's needs, its group's priority, a list of the profiles
    the charger holds), by the names the API's route table uses."""
    from chargers.smart_charging.models import (
        ChargerElectrical,
        Circuit,
        GridLimitWindow,
        GroupPriority,
        LimitSignal,
        ProfilesReport,
        SessionNeeds,
        SiteElectrical,
    )

    now = timezone.now()
    circuit = Circuit.objects.create(site=site, name="Board A", limit_a=Decimal("40"))
    return {
        "grid_connection": SiteElectrical.objects.create(site=site, grid_limit_a=Decimal("63")),
        "circuit": circuit,
        "wiring": ChargerElectrical.objects.create(charger=charger, circuit=circuit),
        "limit_window": GridLimitWindow.objects.create(
            site=site, starts=time(17), ends=time(20), limit_a=Decimal("32")
        ),
        "limit_signal": LimitSignal.objects.create(
            site=site,
            limit_a=Decimal("25"),
            starts_at=now,
            expires_at=now + timedelta(hours=2),
            source="DSO",
        ),
        "session_needs": SessionNeeds.objects.create(session=session, priority=1),
        # The session's card stands for its group (any token may be one).
        "group_priority": GroupPriority.objects.create(
            group=session.id_token, priority=3, label="fleet"
        ),
        "profiles_report": ProfilesReport.objects.create(
            charger=charger, request_id=1, started_at=now, updated_at=now, complete=True
        ),
    }


def a_day_begun_an_hour_ago(tenant) -> None:
    """Put `tenant` in a zone whose day began over an hour ago: make_fleet's samples (up to 20
    minutes old) then count as "today" at whatever hour the test runs (in Berlin's first 20
    minutes they fell on yesterday)."""
    tenant.timezone = next(
        zone for zone in ("UTC", "Asia/Tokyo") if datetime.now(ZoneInfo(zone)).hour >= 1
    )
    tenant.save(update_fields=["timezone"])
