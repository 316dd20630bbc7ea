"""End to end with simulated chargers: a site with a 32 A three-phase connection and six 32 A
chargers (three on OCPP 1.6, three on 2.0.1) all charging. The control loop's recompute sends
each its limits through the command path; the chargers obey them (the simulator caps its power
to the profiles it holds, stacked as a charger stacks them), so the site's draw stays within
its limit, and a charger whose session ends falls back to its default profile."""

import asyncio
import contextlib
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from chargers.models import Charger, IdToken
from chargers.services.chargers import charger_set_password
from chargers.simulator import ChargerConfig, SimulatedCharger
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES
from chargers.smart_charging import services
from chargers.smart_charging.models import ProfileStatus, SentProfile
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import FAST, running

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "simulated-charger-password-1"
TAG = "SIM-TAG-0001"
LIMIT_A = 32
VERSIONS = ["1.6", "2.0.1", "1.6", "2.0.1", "1.6", "2.0.1"]


@pytest.fixture
def site(tenant_a, site_a):
    """Mall A, managed at 32 A per phase, with six registered chargers and the driver's tag."""
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal(LIMIT_A))
        for n, _version in enumerate(VERSIONS, start=1):
            charger = Charger.objects.create(identity=f"SIM-{n:04d}", site=site_a)
            charger_set_password(charger=charger, password=PASSWORD)
            services.charger_electrical_set(charger=charger, max_current_a=Decimal(32))
        IdToken.objects.create(uid=TAG)
    return site_a


def simulated(server: str, n: int, version: str) -> SimulatedCharger:
    config = ChargerConfig(
        url=f"{server}/ocpp/tenant-a/",
        charger_id=f"SIM-{n:04d}",
        password=PASSWORD,
        version=version,
        **{**FAST, "connectors": 1, "seed": n},
    )
    return SimulatedCharger.create(config)


@sync_to_async
def recompute(site, trigger="test"):
    with scoping.scope(site.tenant):
        return services.site_recompute(site_id=site.pk, trigger=trigger)


@sync_to_async
def accepted_profiles(site) -> int:
    with scoping.scope(site.tenant):
        return SentProfile.objects.filter(charger__site=site, status=ProfileStatus.ACCEPTED).count()


def cap_a(sim: SimulatedCharger) -> float | None:
    cap = sim.limits.cap_w(1, sim.now())
    return None if cap is None else round(cap / (NOMINAL_VOLTAGE * PHASES), 1)


def planned(plan) -> dict[str, float]:
    return {row["charger_identity"]: row["limit_a"] for row in plan.allocations}


async def test_six_chargers_of_both_versions_stay_within_the_site_limit(command_server, site):
    sims = [simulated(command_server, n, v) for n, v in enumerate(VERSIONS, start=1)]
    async with contextlib.AsyncExitStack() as stack:
        for sim in sims:
            await stack.enter_async_context(running(sim))
        for sim in sims:
            assert await sim.start_session(TAG, connector_id=1) is not None

        plan = await recompute(site)
        limits = planned(plan)
        assert sum(limits.values()) <= LIMIT_A
        assert sorted(limits.values()) == [0.0, 6.4, 6.4, 6.4, 6.4, 6.4]

        # Every charger, 1.6 and 2.0.1 alike, holds its limit and its fallback.
        async def obeyed():
            return all(cap_a(sim) == limits[sim.id] for sim in sims)

        await eventually(obeyed, what="every charger capped at its planned limit")
        readings = await asyncio.gather(*(sim.send_meter_values(1) for sim in sims))
        assert all(r is not None for r in readings)
        drawn_w = sum(sim.connectors[1].meter.power_w for sim in sims)
        assert drawn_w <= LIMIT_A * NOMINAL_VOLTAGE * PHASES

        # The answers are read back; with nothing changed, nothing is sent again.
        await eventually(
            lambda: _all_answered(site, 12), what="both profiles of every charger answered"
        )
        again = await recompute(site)
        assert again.commands_sent == 0
        assert await accepted_profiles(site) == 12

        # A session ends: its charger falls back to its default profile (32 A over six
        # chargers), and the paused session gets its turn with the current set free.
        paused = next(sim for sim in sims if limits[sim.id] == 0)
        leaving = next(sim for sim in sims if limits[sim.id] > 0)
        await leaving.stop_session("EVDisconnected", connector_id=1)
        assert cap_a(leaving) == 5.3
        after = planned(await recompute(site, "session.stopped"))
        assert leaving.id not in after
        assert after[paused.id] > 0
        assert sum(after.values()) <= LIMIT_A

        async def resumed():
            return cap_a(paused) == after[paused.id]

        await eventually(resumed, seconds=PATIENCE, what="the paused charger resumed")


async def _all_answered(site, count: int) -> bool:
    await recompute(site, "answers")
    return await accepted_profiles(site) >= count
