"""Fencing across nodes: a charger that reconnects to another node (a half-open socket left on
the first, as mobile networks leave them) is served there; the first node's socket is closed,
and commands, sent through either node, reach the new socket."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from chargers.models import Charger
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import connected
from tests.factories import make_key
from tests.faults.topology import Topology, command_outcome
from tests.helpers import database_url, require_production_parts

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


async def test_a_charger_reconnecting_to_another_node_fences_the_first_socket(
    tenant_a, make_charger
):
    require_production_parts(pytest)
    if connection.vendor != "postgresql":
        pytest.skip("the nodes share a PostgreSQL database")
    charger = await sync_to_async(make_charger)(tenant_a, identity="CP-1")
    key = await sync_to_async(make_key)(tenant_a, "operator")
    with Topology(database_url(connection.settings_dict)) as topology:
        first, second = (f"ws://127.0.0.1:{port}" for port in topology.node_ports)
        first_pid, second_pid = (process.pid for process in topology.node_processes)
        async with connected(first, "tenant-a", "CP-1") as old:
            await old.boot()

            async def on_node(pid):
                stored = await in_a(tenant_a, lambda: Charger.objects.get(identity="CP-1"))
                return stored.is_online and stored.node.endswith(f":{pid}")

            await eventually(lambda: on_node(first_pid), what="CP-1 on the first node")
            async with connected(second, "tenant-a", "CP-1") as new:
                await new.boot()
                # The first node closes its socket: told through the channel layer.
                await asyncio.wait_for(old._connection.wait_closed(), 30)
                assert old._connection.close_code == 4000
                await eventually(lambda: on_node(second_pid), what="CP-1 on the second node")
                # Through nginx, whichever node takes the request, the command reaches the
                # socket on the second node.
                _, status, error = await command_outcome(topology, key, charger.pk)
                assert status == "answered", error
                assert ("TriggerMessage", {"requested_message": "Heartbeat"}) in new.received
                assert not [action for action, _ in old.received]
    await sync_to_async(connections.close_all)()
