"""End to end with simulated chargers: a site with a 32 A three-phase connection and six 32 A
chargers (three on OCPP 1.6, three on 2.0.1) all charging. The control loop's recompute sends
each its limits through the command path; the chargers obey them (the simulator caps its power
to the profiles it holds, stacked as a charger stacks them), so the site's draw stays within
its limit, and a charger whose session ends falls back to its default profile. An ISO 15118
car states its needs and chooses its schedule within its limit; an operator reads what the
chargers will draw (composite schedules) and hold (their listed profiles) on their pages."""

import asyncio
import contextlib
import functools
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from chargers.models import Charger, Command, CommandStatus, IdToken
from chargers.simulator import SimulatedCharger
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES
from chargers.smart_charging import services
from chargers.smart_charging.models import (
    EvChargingNeeds,
    EvChargingSchedule,
    NeedsAnswer,
    NeedsSource,
    ProfilesReport,
    ProfileStatus,
    SentProfile,
    SessionNeeds,
)
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.simulator import helpers
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import register, running

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "SIM-TAG-0001"
LIMIT_A = 32
VERSIONS = ["1.6", "2.0.1", "1.6", "2.0.1", "1.6", "2.0.1"]


@pytest.fixture
def site(tenant_a, site_a):
    """Mall A, managed at 32 A per phase, with six registered chargers and the driver's tag."""
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal(LIMIT_A))
        identities = [f"SIM-{n:04d}" for n in range(1, len(VERSIONS) + 1)]
        for charger in register(tenant_a, *identities, site=site_a):
            services.charger_electrical_set(charger=charger, max_current_a=Decimal(32))
        IdToken.objects.create(uid=TAG)
    return site_a


def simulated(server: str, n: int, version: str) -> SimulatedCharger:
    return helpers.simulated(server, f"SIM-{n:04d}", version, connectors=1, seed=n)


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


# --- ISO 15118 cars and what chargers say they hold -------------------------------------------


def vehicle_max_a(sim: SimulatedCharger) -> float:
    session = sim.connectors[1].session
    return round(session.vehicle.max_power_w / (NOMINAL_VOLTAGE * PHASES))


@sync_to_async
def ev_state(site, transaction_id):
    with scoping.scope(site.tenant):
        needs = SessionNeeds.objects.filter(session__transaction_id=transaction_id).first()
        said = EvChargingNeeds.objects.filter(session__transaction_id=transaction_id).first()
        chosen = list(
            EvChargingSchedule.objects.filter(session__transaction_id=transaction_id).values_list(
                "within_limits", flat=True
            )
        )
        return needs, said, chosen


async def test_an_iso15118_car_states_its_needs_gets_its_limit_and_renegotiates_on_a_change(
    command_server, site
):
    async with running(simulated(command_server, 2, "2.0.1")) as sim:
        session = await sim.start_session(TAG, connector_id=1, iso15118=True)
        transaction_id = session.transaction_id

        async def needs_kept():
            needs, said, _ = await ev_state(site, transaction_id)
            return needs is not None and (needs, said)

        needs, said = await eventually(needs_kept, what="the car's needs kept")
        assert said.answer == NeedsAnswer.SCHEDULE  # answered Accepted
        assert (needs.source, float(needs.max_current_a)) == (NeedsSource.EV, vehicle_max_a(sim))
        assert needs.energy_needed_wh > 0

        # The limit for its transaction is the car's maximum (the site could give 32 A), and
        # the car chooses a schedule within it.
        plan = await recompute(site)
        assert planned(plan)[sim.id] == min(LIMIT_A, vehicle_max_a(sim))
        await eventually(lambda: _obeys(sim, planned(plan)[sim.id]), what="capped at its limit")

        async def chosen(count):
            _, _, schedules = await ev_state(site, transaction_id)
            return len(schedules) >= count and schedules

        assert all(await eventually(lambda: chosen(1), what="the car's schedule"))

        # The site's limit drops: a new limit goes to the transaction, the car renegotiates.
        with_schedules = len((await ev_state(site, transaction_id))[2])
        await sync_to_async(_set_grid)(site, Decimal(10))
        assert planned(await recompute(site, "grid connection"))[sim.id] == 10.0
        await eventually(lambda: _obeys(sim, 10.0), what="capped at the lower limit")
        renegotiated = await eventually(
            lambda: chosen(with_schedules + 1), what="the car's new schedule"
        )
    assert all(renegotiated)


def _set_grid(site, limit_a):
    with scoping.scope(site.tenant):
        services.site_electrical_set(site=site, grid_limit_a=limit_a)


async def _obeys(sim, limit_a) -> bool:
    return cap_a(sim) == limit_a


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


async def test_an_operator_sees_what_chargers_of_both_versions_will_draw_and_hold(
    command_server, site, client, olga, tenant_a
):
    sims = [simulated(command_server, 1, "1.6"), simulated(command_server, 2, "2.0.1")]
    post, get = sync_to_async(client.post), sync_to_async(client.get)
    await sync_to_async(client.force_login)(olga)
    async with contextlib.AsyncExitStack() as stack:
        for sim in sims:
            await stack.enter_async_context(running(sim))
            assert await sim.start_session(TAG, connector_id=1) is not None
        await recompute(site)
        await eventually(lambda: _all_answered(site, 4), what="every limit answered")
        chargers = {
            sim.id: await in_a(tenant_a, functools.partial(Charger.objects.get, identity=sim.id))
            for sim in sims
        }
        for charger in chargers.values():
            asked = await post(
                page("charger_command", pk=charger.pk),
                {"action": "composite_schedule", "evse_id": 1, "duration": 600, "unit": "A"},
            )
            assert asked.status_code == 302
        listed = await post(
            page("charger_command", pk=chargers["SIM-0002"].pk), {"action": "charging_profiles"}
        )
        assert listed.status_code == 302

        async def answered():
            return await in_a(tenant_a, _composites_and_report)

        await eventually(answered, what="both composite schedules and the complete report")
        pages = {
            identity: (await get(page("charger_detail", pk=charger.pk))).content.decode()
            for identity, charger in chargers.items()
        }
    report = await in_a(tenant_a, lambda: ProfilesReport.objects.get())
    # The 2.0.1 charger lists its session limit and its fallback, from two sources' reports.
    assert (report.complete, report.parts) == (True, 2)
    for identity, body in pages.items():
        table = body.split('data-composite="1"')[1].split("</table>")[0]
        assert '<td class="num">0</td><td class="num">16.0</td><td>A</td>' in table, identity
    assert pages["SIM-0002"].count('data-profile-agrees="yes"') == 2
    assert 'data-profile-agrees="no"' not in pages["SIM-0002"]


def _composites_and_report() -> bool:
    composites = Command.objects.filter(
        action="GetCompositeSchedule", status=CommandStatus.ANSWERED
    ).count()
    return composites == 2 and ProfilesReport.objects.filter(complete=True).exists()
