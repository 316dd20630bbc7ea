"""Domain events pushed to live dashboards from a charger socket's database threads."""

import asyncio
import contextvars

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from chargers import events


@pytest.mark.django_db(transaction=True)
async def test_pushes_from_database_threads_reach_the_dashboards_in_order():
    layer = get_channel_layer()
    listener = await layer.new_channel()
    group = events.dashboard_group(4242)
    await layer.group_add(group, listener)
    loop = asyncio.get_running_loop()
    events.socket_loop.set(loop)

    def work(n):
        # As a socket's database work does: publish inside a transaction, push on commit.
        with transaction.atomic():
            events.publish("connector.status", tenant_id=4242, n=n)

    try:
        for n in range(30):
            await loop.run_in_executor(None, contextvars.copy_context().run, work, n)
        received = [
            (await asyncio.wait_for(layer.receive(listener), 5))["data"]["n"] for _ in range(30)
        ]
    finally:
        await layer.group_discard(group, listener)
    assert received == list(range(30))
    # One sender per loop, whatever the number of events: Redis connections stay bounded.
    assert sum(1 for task in events._senders if task.get_loop() is loop) == 1
