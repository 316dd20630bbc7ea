"""A simulated charger leaves a session open: the beat job closes it after the tenant's time
(set in the past, never waited for), and the stop the charger sends after all replaces the
server's figures, in both OCPP versions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chargers import tasks
from chargers.integrity import session_flags
from chargers.models import ChargingSession, IdToken, SessionState
from chargers.simulator import SimulatedCharger
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.simulator import helpers
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import register, running

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "SIM-TAG-0001"


@pytest.fixture
def registered(tenant_a):
    (charger,) = register(tenant_a, "SIM-0001")
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid=TAG)
    return charger


def simulated(server: str, version: str) -> SimulatedCharger:
    # No periodic readings during the test: the session is silent, as a stuck one is.
    return helpers.simulated(server, "SIM-0001", version, meter_interval=3600.0)


@sync_to_async
def the_session(tenant) -> ChargingSession:
    with scoping.scope(tenant):
        return ChargingSession.objects.get()


@sync_to_async
def silent_for_49_hours_then_the_job_runs(tenant) -> int:
    with scoping.scope(tenant):
        at = timezone.now() - timedelta(hours=49)
        ChargingSession.objects.filter(state=SessionState.ACTIVE).update(updated_at=at)
    return tasks.close_stale_sessions()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_session_left_open_is_closed_and_the_late_stop_wins(
    command_server, registered, tenant_a, version
):
    async with running(simulated(command_server, version)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        # Messages that follow the start (status, charging state) may still be arriving.
        await eventually(
            lambda: silent_for_49_hours_then_the_job_runs(tenant_a), what="the job closes it"
        )
        closed = await the_session(tenant_a)
        assert (closed.state, closed.stop_reason, session_flags(closed)) == (
            SessionState.COMPLETED,
            "No stop after 48 h",
            ["stale_closed"],
        )

        await sim.stop_session("EVDisconnected", connector_id=1)
        meter_start, meter_stop = session.meter_start_wh, session.meter_stop_wh

        async def corrected():
            found = await the_session(tenant_a)
            return found if found.stop_reason == "EVDisconnected" else None

        stopped = await eventually(corrected, PATIENCE, what="the charger's stop replaces it")
    assert (stopped.closed_by_server, session_flags(stopped)) == (False, [])
    # The charger's register readings (1.6 sends whole Wh), and the energy between them.
    assert abs(stopped.meter_start_wh - Decimal(str(meter_start))) < 1
    assert abs(stopped.meter_stop_wh - Decimal(str(meter_stop))) < 1
    assert stopped.energy_wh == stopped.meter_stop_wh - stopped.meter_start_wh
