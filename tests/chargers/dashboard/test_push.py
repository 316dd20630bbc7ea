"""Domain events pushed to live dashboards from a charger socket's database threads."""

import asyncio
import contextvars
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from chargers.dashboard import push
from chargers.events import SessionUpdated
from cpms.events import publish


def meter_reading(tenant_id: int, n: int) -> SessionUpdated:
    return SessionUpdated(
        tenant_id=tenant_id,
        session_id=n,
        charger_id=1,
        transaction_id=str(n),
        evse_id=1,
        id_tag="",
        state="active",
        energy_wh=Decimal(n),
        power_w=None,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        stopped_at=None,
        stop_reason="",
    )


def one_by_one(message: dict) -> list[dict]:
    """A message a dashboard group heard, as the events it carries, each as pushed alone."""
    if message["type"] != "domain.events":
        return [message]
    return [{"type": "domain.event", **event} for event in message["events"]]


@pytest.mark.django_db(transaction=True)
async def test_pushes_from_database_threads_reach_the_dashboards_in_order():
    layer = get_channel_layer()
    listener = await layer.new_channel()
    group = push.dashboard_group(4242)
    await layer.group_add(group, listener)
    loop = asyncio.get_running_loop()
    push.socket_loop.set(loop)

    def work(n):
        # As a socket's database work does: publish inside a transaction, push on commit.
        with transaction.atomic():
            publish(meter_reading(4242, n))

    try:
        for n in range(30):
            await loop.run_in_executor(None, contextvars.copy_context().run, work, n)
        received = []
        while len(received) < 30:
            received += one_by_one(await asyncio.wait_for(layer.receive(listener), 5))
    finally:
        await layer.group_discard(group, listener)
    assert [message["data"]["session_id"] for message in received] == list(range(30))
    assert received[7] == {
        "type": "domain.event",
        "name": "session.updated",
        "data": meter_reading(4242, 7).data(),
    }
    # One sender per loop, whatever the number of events: Redis connections stay bounded.
    assert sum(1 for task in push._senders if task.get_loop() is loop) == 1


@pytest.mark.django_db(transaction=True)
async def test_the_loops_sender_does_not_inherit_the_scope_of_the_socket_that_started_it(
    monkeypatch, tenant_a
):
    from cpms.tenancy import scoping

    scopes_seen: asyncio.Queue = asyncio.Queue()

    async def record(group, message):
        scopes_seen.put_nowait(scoping.current_tenant())

    monkeypatch.setattr(push, "_group_send", record)
    loop = asyncio.get_running_loop()
    push.socket_loop.set(loop)

    def work():
        with scoping.scope(tenant_a):
            publish(meter_reading(tenant_a.pk, 1))

    await loop.run_in_executor(None, contextvars.copy_context().run, work)
    # The sender serves every tenant's sockets on this loop: it runs in no tenant's scope.
    assert await asyncio.wait_for(scopes_seen.get(), 30) is None


async def test_the_sender_ends_when_cancelled_even_if_a_send_swallowed_the_cancel(monkeypatch):
    sent = []

    async def swallowing(group, message):
        # The loop closes during a send to Redis; the send completes in the same turn of the
        # loop, and Python 3.11's wait_for (in redis-py) returns instead of raising the cancel.
        sent.append(message)
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass

    monkeypatch.setattr(push, "_group_send", swallowing)
    queue = asyncio.Queue()
    queue.put_nowait(("dashboard", {"name": "x"}))
    sender = asyncio.create_task(push._send_pushes(queue))
    done, _ = await asyncio.wait({sender}, timeout=30)  # bounds the hang this test is about
    assert sender in done and len(sent) == 1


async def test_pushes_queued_while_the_sender_was_busy_go_as_one_message_per_group(monkeypatch):
    sent = []
    all_sent = asyncio.Event()

    async def record(group, message):
        sent.append((group, message))
        if len(sent) == 2:
            all_sent.set()

    monkeypatch.setattr(push, "_group_send", record)
    queue = asyncio.Queue()
    events = [("a", 1), ("b", 2), ("a", 3), ("a", 4), ("b", 5)]
    for group, n in events:
        queue.put_nowait((group, {"type": "domain.event", "name": "e", "data": {"n": n}}))
    sender = asyncio.create_task(push._send_pushes(queue))
    try:
        await asyncio.wait_for(all_sent.wait(), 30)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    assert sent == [
        (
            "a",
            {
                "type": "domain.events",
                "events": [{"name": "e", "data": {"n": n}} for n in (1, 3, 4)],
            },
        ),
        (
            "b",
            {"type": "domain.events", "events": [{"name": "e", "data": {"n": n}} for n in (2, 5)]},
        ),
    ]


async def test_pushes_within_the_interval_of_the_first_go_as_one_message(monkeypatch):
    sent = []
    monkeypatch.setattr(push, "_group_send", lambda group, message: _record(sent, group, message))
    # A batch that is full goes at once: the interval cannot run out first on a slow machine.
    monkeypatch.setattr(push, "BATCH", 3)
    monkeypatch.setattr(push, "PUSH_INTERVAL", 3600)
    queue = asyncio.Queue()
    queue.put_nowait(("a", {"type": "domain.event", "name": "e", "data": {"n": 1}}))
    sender = asyncio.create_task(push._send_pushes(queue))
    try:
        while not queue.empty():  # the sender holds the first push, waiting for more
            await asyncio.sleep(0)
        for n in (2, 3):
            queue.put_nowait(("a", {"type": "domain.event", "name": "e", "data": {"n": n}}))
        while not sent:
            await asyncio.sleep(0.01)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    events = [{"name": "e", "data": {"n": n}} for n in (1, 2, 3)]
    assert sent == [("a", {"type": "domain.events", "events": events})]


async def _record(sent: list, group: str, message: dict) -> None:
    sent.append((group, message))
