"""Local lists over real OCPP: simulated 1.6 and 2.0.1 chargers (chargers/simulator) served in
this process, Celery eager beside it. A charger that boots is asked for its list's version and
gets the full list; a token blocked centrally reaches the lists as a differential update; a
charger that lost its list (a new board: version 0) is repaired with a full update on boot."""

import pytest
from asgiref.sync import sync_to_async

from chargers.local_lists.models import ChargerLocalList, SyncOutcome
from chargers.models import IdToken
from chargers.services.tokens import id_token_set_blocked
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.simulator.helpers import register, running, simulated

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_TOKEN = {"FLEET-1", "04A1", "04A2", "04B1"}


@pytest.fixture
def registered(tenant_a):
    register(tenant_a, "SIM-0001", "SIM-0002", "SIM-0003")


def state_of(tenant, identity):
    return in_a(tenant, lambda: ChargerLocalList.objects.filter(charger__identity=identity).first())


def settled(tenant, identity, outcome=SyncOutcome.IN_SYNC):
    async def check():
        state = await state_of(tenant, identity)
        return state is not None and not state.step and state.last_outcome == outcome and state

    return check


@sync_to_async
def block(tenant, uid):
    with scoping.scope(tenant):
        id_token_set_blocked(token=IdToken.objects.get(uid=uid), blocked=True)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_booting_charger_gets_the_full_list_then_a_blocked_token_as_a_difference(
    ocpp_server_in_process, registered, policy, tenant_a, eager, version
):
    sim = simulated(ocpp_server_in_process, "SIM-0001", version)
    async with running(sim):
        state = await eventually(settled(tenant_a, "SIM-0001"), what="the first sync")
        assert sim.local_list.tags == dict.fromkeys(EVERY_TOKEN, "Accepted")
        assert sim.local_list.updates == [("Full", 4)]
        assert (state.version, sim.local_list.version) == (1, 1)

        await block(tenant_a, "04A1")

        async def blocked_there():
            return sim.local_list.get("04A1") == "Blocked"

        await eventually(blocked_there, what="the blocked card on the charger's list")
        state = await eventually(settled(tenant_a, "SIM-0001"), what="the second sync")
    # The card stays on the list, marked Blocked: offline, the charger refuses it rather than
    # falling back to its authorization cache.
    assert sim.local_list.updates == [("Full", 4), ("Differential", 1)]
    assert state.version == sim.local_list.version == 2
    assert state.entries["04A1"][1] == "Blocked"


async def test_a_charger_that_lost_its_list_is_repaired_with_a_full_update_on_boot(
    ocpp_server_in_process, registered, policy, tenant_a, eager
):
    first = simulated(ocpp_server_in_process, "SIM-0001", "1.6")
    async with running(first):
        await eventually(settled(tenant_a, "SIM-0001"), what="the first sync")
    # A new board: the same charger boots with an empty list, version 0.
    again = simulated(ocpp_server_in_process, "SIM-0001", "1.6")
    async with running(again):

        async def repaired():
            state = await state_of(tenant_a, "SIM-0001")
            return state.version == 2 and not state.step and state

        state = await eventually(repaired, what="the repair")
        assert again.local_list.updates == [("Full", 4)]
        assert again.local_list.version == 2
        assert state.reported_version == 2
        assert state.last_outcome == SyncOutcome.IN_SYNC


async def test_a_list_longer_than_an_update_goes_in_chunks_the_charger_accepts(
    ocpp_server_in_process, registered, policy, tenant_a, eager
):
    sim = simulated(ocpp_server_in_process, "SIM-0002", "2.0.1", local_list_per_message=3)
    async with running(sim):
        state = await eventually(settled(tenant_a, "SIM-0002"), what="the sync")
    assert sim.local_list.updates == [("Full", 3), ("Differential", 1)]
    assert set(sim.local_list.tags) == EVERY_TOKEN
    assert (state.per_message, state.version) == (3, 2)


async def test_a_charger_without_a_local_list_is_skipped(
    ocpp_server_in_process, registered, policy, tenant_a, eager
):
    sim = simulated(ocpp_server_in_process, "SIM-0003", "1.6", local_list=False)
    async with running(sim):
        state = await eventually(
            settled(tenant_a, "SIM-0003", SyncOutcome.UNSUPPORTED), what="the probe"
        )
    assert state.supported is False
    assert "LocalAuthListManagement" in state.support_note
    assert sim.local_list.updates == []


async def test_a_version_mismatch_to_a_difference_is_repaired_with_the_full_list(
    ocpp_server_in_process, registered, policy, tenant_a, eager
):
    sim = simulated(ocpp_server_in_process, "SIM-0002", "2.0.1")
    async with running(sim):
        await eventually(settled(tenant_a, "SIM-0002"), what="the first sync")
        # Something else wrote the charger's list meanwhile: its version is ahead of ours.
        sim.local_list.version = 99
        sim.local_list.tags["STRANGER"] = "Accepted"

        await block(tenant_a, "04B1")

        async def repaired():
            return sim.local_list.get("04B1") == "Blocked"

        await eventually(repaired, what="the repair")
        state = await eventually(settled(tenant_a, "SIM-0002"), what="the end of the sync")
    # The differential update (version 2) met VersionMismatch; the full one replaced the list.
    assert sim.local_list.updates == [("Full", 4), ("Full", 4)]
    assert state.version == sim.local_list.version == 2
    assert "STRANGER" not in sim.local_list.tags
    assert sim.local_list.get("04B1") == "Blocked"
    assert state.last_outcome == SyncOutcome.IN_SYNC
