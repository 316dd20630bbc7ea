"""Sessions whose charger never sends the stop are closed by the beat job after the tenant's
time, flagged; a stop the charger sends after all replaces the server's figures. Times are
set in the past rather than waited for."""

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from ocpp.v16 import call

from chargers import tasks
from chargers.integrity import session_flags
from chargers.models import ChargerEvent, ChargingSession, EventKind, SessionState
from chargers.services.fleet_settings import fleet_settings_update
from tests.aio import in_a
from tests.chargers.ocpp.clients import connected, now
from tests.chargers.ocpp.clients201 import connected201, new_transaction_id

pytestmark = pytest.mark.django_db(transaction=True)


def reading(wh):
    register = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return [{"timestamp": now(), "sampledValue": [register]}]


def session(tenant, transaction_id):
    return in_a(tenant, lambda: ChargingSession.objects.get(transaction_id=transaction_id))


def last_heard(tenant, transaction_id, hours_ago):
    """The session was last heard of `hours_ago` hours ago (an update skips auto_now)."""
    at = timezone.now() - timedelta(hours=hours_ago)
    return in_a(
        tenant,
        lambda: ChargingSession.objects.filter(transaction_id=transaction_id).update(updated_at=at),
    )


def close_stale():
    return sync_to_async(tasks.close_stale_sessions)()


async def test_a_16_session_left_open_is_closed_and_its_late_stop_wins(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="A", meter_start=1000, timestamp=now())
        )
        tx = str(start.transaction_id)
        await cp.call(
            call.MeterValues(
                connector_id=1, transaction_id=start.transaction_id, meter_value=reading(6000)
            )
        )
        # Not silent long enough yet: 47 h of the default 48.
        await last_heard(tenant_a, tx, 47)
        assert await close_stale() == 0
        assert (await session(tenant_a, tx)).state == SessionState.ACTIVE

        await last_heard(tenant_a, tx, 49)
        assert await close_stale() == 1
        closed = await session(tenant_a, tx)
        assert (closed.state, closed.stop_reason, closed.closed_by_server) == (
            SessionState.COMPLETED,
            "No stop after 48 h",
            True,
        )
        assert (closed.meter_stop_wh, closed.energy_wh) == (Decimal(6000), Decimal(5000))
        assert session_flags(closed) == ["stale_closed"]
        assert await close_stale() == 0  # idempotent: nothing more to close

        # The charger's queued stop arrives after all: its figures replace the server's.
        await cp.call(
            call.StopTransaction(
                meter_stop=6500,
                timestamp=now(),
                transaction_id=start.transaction_id,
                reason="EVDisconnected",
            )
        )
    corrected = await session(tenant_a, tx)
    assert (corrected.stop_reason, corrected.meter_stop_wh, corrected.energy_wh) == (
        "EVDisconnected",
        Decimal(6500),
        Decimal(5500),
    )
    assert (corrected.closed_by_server, session_flags(corrected)) == (False, [])
    summaries = await in_a(
        tenant_a,
        lambda: list(
            ChargerEvent.objects.filter(kind=EventKind.SESSION_LOST).values_list(
                "summary", flat=True
            )
        ),
    )
    assert summaries == [
        f"Session {tx} on EVSE 1 closed: the charger sent no stop and nothing else of it for 48 h"
    ]


async def test_a_201_session_left_open_is_closed_after_the_tenants_time_and_its_ended_wins(
    ocpp_server, tenant_a, charger
):
    await in_a(
        tenant_a, lambda: fleet_settings_update(tenant=tenant_a, close_sessions_after_hours=2)
    )
    tx = new_transaction_id()
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.tx("Started", 0, tx, meter=1000)
        await cp.tx("Updated", 1, tx, trigger="MeterValuePeriodic", meter=2500)
        await last_heard(tenant_a, tx, 3)
        assert await close_stale() == 1
        closed = await session(tenant_a, tx)
        assert (closed.state, closed.stop_reason, closed.energy_wh) == (
            SessionState.COMPLETED,
            "No stop after 2 h",
            Decimal(1500),
        )
        await cp.tx("Ended", 2, tx, meter=2700, stopped_reason="EVDisconnected")
    corrected = await session(tenant_a, tx)
    assert (corrected.state, corrected.stop_reason, corrected.energy_wh) == (
        SessionState.COMPLETED,
        "EVDisconnected",
        Decimal(1700),
    )
    assert session_flags(corrected) == []


async def test_a_tenant_that_never_closes_sessions_keeps_them_open(ocpp_server, tenant_a, charger):
    await in_a(
        tenant_a, lambda: fleet_settings_update(tenant=tenant_a, close_sessions_after_hours=0)
    )
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        start = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="A", meter_start=0, timestamp=now())
        )
    await last_heard(tenant_a, str(start.transaction_id), 10_000)
    assert await close_stale() == 0
    assert (await session(tenant_a, str(start.transaction_id))).state == SessionState.ACTIVE
