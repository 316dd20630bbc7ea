"""Sessions a charger comes back without (it rebooted, or started another on the same EVSE)
are closed as the charger would have closed them; a stop it sends after all still counts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.v16 import call

from chargers.models import ChargerEvent, ChargingSession, EventKind, SessionState
from tests.aio import in_a
from tests.chargers.ocpp.clients import connected, now
from tests.chargers.ocpp.clients201 import connected201, new_transaction_id

pytestmark = pytest.mark.django_db(transaction=True)


def sessions(tenant):
    return in_a(tenant, lambda: {s.transaction_id: s for s in ChargingSession.objects.all()})


def reading(wh):
    register = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return [{"timestamp": now(), "sampledValue": [register]}]


def available(connector):
    return call.StatusNotification(connector_id=connector, error_code="NoError", status="Available")


async def test_a_16_charger_back_from_a_reboot_has_its_sessions_closed(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        one = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="A", meter_start=1000, timestamp=now())
        )
        two = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="B", meter_start=500, timestamp=now())
        )
        await cp.call(
            call.MeterValues(
                connector_id=1, transaction_id=one.transaction_id, meter_value=reading(4000)
            )
        )
    last_heard = datetime.now(UTC)
    # Power lost: it comes back and boots; a reboot ends a charger's transactions.
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        found = await sessions(tenant_a)
        lost = found[str(one.transaction_id)]
        assert (lost.state, lost.stop_reason, lost.closed_by_server) == (
            SessionState.COMPLETED,
            "Reboot",
            True,
        )
        assert (lost.meter_stop_wh, lost.energy_wh) == (Decimal(4000), Decimal(3000))
        assert lost.stopped_at <= last_heard  # when it was last heard of, not now
        assert found[str(two.transaction_id)].state == SessionState.COMPLETED
        # Its queue delivers a stop after all: the charger's figures replace the server's.
        await cp.call(
            call.StopTransaction(
                meter_stop=4200,
                timestamp=now(),
                transaction_id=one.transaction_id,
                reason="PowerLoss",
            )
        )
        await cp.boot()  # booting again closes nothing more
    found = await sessions(tenant_a)
    corrected, lost = found[str(one.transaction_id)], found[str(two.transaction_id)]
    assert (corrected.stop_reason, corrected.meter_stop_wh, corrected.energy_wh) == (
        "PowerLoss",
        Decimal(4200),
        Decimal(3200),
    )
    assert corrected.closed_by_server is False
    assert (lost.state, lost.closed_by_server) == (SessionState.COMPLETED, True)
    records = await in_a(
        tenant_a,
        lambda: list(
            ChargerEvent.objects.filter(kind=EventKind.SESSION_LOST).values_list(
                "summary", flat=True
            )
        ),
    )
    assert sorted(records) == sorted(
        f"Session {tx} on EVSE {evse} closed: the charger rebooted"
        for tx, evse in [(one.transaction_id, 1), (two.transaction_id, 2)]
    )


async def test_a_reconnect_without_a_reboot_closes_nothing(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="A", meter_start=0, timestamp=now())
        )
    # A network blip: the same charger reconnects without booting and reports its status.
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.call(available(1))
    found = await sessions(tenant_a)
    assert found[str(start.transaction_id)].state == SessionState.ACTIVE


async def test_a_new_start_on_a_connector_closes_the_session_it_lost_there(
    ocpp_server, tenant_a, charger
):
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        old = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="A", meter_start=100, timestamp=t0.isoformat()
            )
        )
        other = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="B", meter_start=0, timestamp=t0.isoformat()
            )
        )
        new = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="A", meter_start=900, timestamp=now())
        )
    found = await sessions(tenant_a)
    assert (found[str(old.transaction_id)].state, found[str(old.transaction_id)].stop_reason) == (
        SessionState.COMPLETED,
        "Other",
    )
    assert found[str(other.transaction_id)].state == SessionState.ACTIVE
    assert found[str(new.transaction_id)].state == SessionState.ACTIVE


async def test_a_201_transaction_started_on_an_evse_closes_the_one_lost_there(
    ocpp_server, tenant_a, charger
):
    old, new = new_transaction_id(), new_transaction_id()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.tx("Started", 0, old, timestamp=t0.isoformat(), meter=1000)
        await cp.tx(
            "Updated", 1, old, timestamp=(t0 + timedelta(minutes=5)).isoformat(), meter=2500
        )
        await cp.tx("Started", 0, new, meter=2600)
        found = await sessions(tenant_a)
        assert (found[old].state, found[old].closed_by_server, found[old].energy_wh) == (
            SessionState.COMPLETED,
            True,
            Decimal(1500),
        )
        # The old one's Ended, delivered late, is the charger's word: it replaces the server's.
        await cp.tx(
            "Ended",
            2,
            old,
            timestamp=(t0 + timedelta(minutes=6)).isoformat(),
            meter=2550,
            stopped_reason="EVDisconnected",
        )
    found = await sessions(tenant_a)
    assert (found[old].stop_reason, found[old].energy_wh, found[old].closed_by_server) == (
        "EVDisconnected",
        Decimal(1550),
        False,
    )
    assert found[new].state == SessionState.ACTIVE


async def test_a_201_transaction_reported_running_after_a_reboot_is_open_again(
    ocpp_server, tenant_a, charger
):
    tx = new_transaction_id()
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.tx("Started", 0, tx, meter=1000)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        assert (await sessions(tenant_a))[tx].closed_by_server
        # It kept the transaction through its reboot (2.1 resumes them): its word counts.
        await cp.tx("Updated", 1, tx, trigger="MeterValuePeriodic", meter=1800)
    session = (await sessions(tenant_a))[tx]
    assert (session.state, session.closed_by_server, session.stopped_at) == (
        SessionState.ACTIVE,
        False,
        None,
    )
    assert session.energy_wh == Decimal(800)
