"""Waiting for a command's outcome (`wait_for_outcome`, the one wait) and the news of it
(`command.finished`), on any channel layer: a channel of the test's own stands in for the
socket of a connected charger, so nothing answers unless the test does."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

from chargers import commands
from chargers.dashboard.push import dashboard_group
from chargers.models import Charger, Command, CommandStatus
from chargers.services.commands import command_create, command_finish, commands_time_out_stale
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db(transaction=True)

# Longer than any of these tests may take; a wait that returns sooner says why it returned.
LONG = 60.0


@pytest.fixture(scope="module", autouse=True)
def closed_afterwards(django_db_blocker):
    """The waits read the database from asgiref's thread; its connection is closed after the
    module, or the test database cannot be dropped at the end."""
    yield
    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())


@sync_to_async
def online_charger(tenant, socket: str) -> Charger:
    """A charger whose socket is `socket`, a channel only the test reads."""
    with scoping.scope(tenant):
        return Charger.objects.create(identity="CP-1", is_online=True, channel_name=socket)


@sync_to_async
def queued_command(tenant) -> Command:
    with scoping.scope(tenant):
        charger, _ = Charger.objects.get_or_create(identity="CP-1")
        return command_create(charger=charger, action="Reset", payload={"type": "Soft"})


@sync_to_async
def answer(tenant, command: Command, reply=None) -> bool:
    with scoping.scope(tenant):
        return command_finish(
            command_id=command.pk, status=CommandStatus.ANSWERED, response=reply or {}
        )


@sync_to_async
def stored(command: Command) -> Command:
    with scoping.unscoped():
        return Command.objects.get(pk=command.pk)


async def test_a_wait_ends_when_the_doorbell_rings(tenant_a, monkeypatch):
    # The row is not looked at before the test's deadline: only the bell can end the wait.
    monkeypatch.setattr(commands, "DOORBELL_PATIENCE", LONG)
    command = await queued_command(tenant_a)
    layer = get_channel_layer()
    doorbell = await layer.new_channel()
    await layer.send(doorbell, {"type": "command.done", "command_id": command.pk})
    assert await asyncio.wait_for(
        commands.wait_for_outcome(command.pk, seconds=LONG * 2, doorbell=doorbell), LONG / 2
    )


async def test_a_wait_ends_when_the_row_has_the_outcome_though_the_bell_was_lost(tenant_a):
    command = await queued_command(tenant_a)
    doorbell = await get_channel_layer().new_channel()
    with scoping.scope(tenant_a):
        waiting = asyncio.create_task(
            commands.wait_for_outcome(command.pk, seconds=LONG, doorbell=doorbell)
        )
    await answer(tenant_a, command)
    assert await asyncio.wait_for(waiting, LONG / 2)


async def test_a_wait_without_a_doorbell_looks_at_the_row(tenant_a):
    command = await queued_command(tenant_a)
    with scoping.scope(tenant_a):
        waiting = asyncio.create_task(commands.wait_for_outcome(command.pk, seconds=LONG))
    await answer(tenant_a, command)
    assert await asyncio.wait_for(waiting, LONG / 2)


async def test_a_wait_gives_up_after_its_time_and_records_nothing(tenant_a):
    command = await queued_command(tenant_a)
    with scoping.scope(tenant_a):
        assert not await commands.wait_for_outcome(command.pk, seconds=0.1)
    assert (await stored(command)).status == CommandStatus.QUEUED


async def test_a_sender_that_gives_up_waiting_records_a_timeout(tenant_a, monkeypatch):
    monkeypatch.setattr(commands, "patience", lambda timeout: 0.1)
    socket = await get_channel_layer().new_channel()
    charger = await online_charger(tenant_a, socket)
    command = await commands.asend_command(charger, "Reset", {"type": "Soft"}, timeout=10)
    assert command.status == CommandStatus.TIMEOUT
    assert command.error == "No answer from the charger's connection."


async def test_a_command_sent_without_waiting_is_on_its_way_and_still_pending(tenant_a):
    layer = get_channel_layer()
    socket = await layer.new_channel()
    charger = await online_charger(tenant_a, socket)
    command = await commands.asend_command(charger, "Reset", {"type": "Soft"}, wait=False)
    assert command.status == CommandStatus.QUEUED
    delivered = await asyncio.wait_for(layer.receive(socket), LONG / 2)
    assert delivered["command_id"] == command.pk and delivered["reply_to"] == ""


async def test_an_outcome_is_announced_once_to_the_tenants_dashboards_without_the_reply(
    tenant_a,
):
    layer = get_channel_layer()
    dashboard = await layer.new_channel()
    await layer.group_add(dashboard_group(tenant_a.pk), dashboard)
    command = await queued_command(tenant_a)
    try:
        assert await answer(tenant_a, command, {"configurationKey": [{"key": "secret"}]})
        # A late outcome is not recorded, and not announced either.
        assert not await answer(tenant_a, command)
        await layer.group_send(
            dashboard_group(tenant_a.pk), {"type": "domain.event", "name": "marker", "data": {}}
        )
        heard = [await asyncio.wait_for(layer.receive(dashboard), LONG / 2) for _ in range(2)]
    finally:
        await layer.group_discard(dashboard_group(tenant_a.pk), dashboard)
    assert heard[0]["name"] == "command.finished"
    assert heard[0]["data"] == {
        "command_id": command.pk,
        "charger_id": command.charger_id,
        "action": "Reset",
        "status": CommandStatus.ANSWERED,
    }
    assert heard[1]["name"] == "marker"


async def test_the_stale_sweep_announces_the_timeouts_it_records(tenant_a):
    layer = get_channel_layer()
    dashboard = await layer.new_channel()
    await layer.group_add(dashboard_group(tenant_a.pk), dashboard)
    command = await queued_command(tenant_a)
    try:
        later = command.created_at + commands.pending_at_most(command.timeout)
        with scoping.unscoped():
            assert await sync_to_async(commands_time_out_stale)(now=later) == 1
        heard = await asyncio.wait_for(layer.receive(dashboard), LONG / 2)
    finally:
        await layer.group_discard(dashboard_group(tenant_a.pk), dashboard)
    assert heard["data"]["command_id"] == command.pk
    assert heard["data"]["status"] == CommandStatus.TIMEOUT
