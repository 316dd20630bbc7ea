"""Domain events: one place where services say what happened, for whoever listens.

`publish()` is called inside the service's transaction. Listeners run there too, so a listener
that writes (the webhook outbox) commits or rolls back with the fact it reports; listeners that
talk to the outside world (live dashboards, alert evaluation) defer to `transaction.on_commit`
so nobody hears of a fact that was rolled back.

Event names: charger.online, charger.offline, charger.boot, connector.status,
session.started, session.updated, session.stopped, charger.event (firmware, diagnostics,
security and other notifications), handshake.refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    name: str
    tenant_id: int | None
    data: dict = field(default_factory=dict)


Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Listener:
    """Register a listener (apps do it in AppConfig.ready); usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def publish(name: str, *, tenant_id: int | None, **data) -> None:
    event = Event(name=name, tenant_id=tenant_id, data=data)
    for listener in _listeners:
        listener(event)


def dashboard_group(tenant_id: int) -> str:
    """The channel group of a tenant's live dashboards; names are only ever made here."""
    return f"dashboard.tenant.{tenant_id}"


# The event loop of the charger socket whose database work is running (the OCPP consumers set
# it; context variables follow that work onto its thread). Pushes are handed to that loop rather
# than awaited on the database thread, which has the next charger's message to write; one task
# per loop sends them in order, so a storm of events never opens more Redis connections.
socket_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("socket_loop", default=None)
_pushes: dict[asyncio.AbstractEventLoop, asyncio.Queue] = {}
_senders: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks


async def _group_send(group: str, message: dict) -> None:
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:  # a dashboard that misses an update reloads; the fact is stored
        log.warning("could not push %s to dashboards", message["name"], exc_info=True)


async def _send_pushes(queue: asyncio.Queue) -> None:
    while True:
        group, message = await queue.get()
        await _group_send(group, message)


def _queue_push(group: str, message: dict) -> None:
    """On the socket's loop: queue the push for the loop's sender, started on first use."""
    loop = asyncio.get_running_loop()
    queue = _pushes.get(loop)
    if queue is None:
        queue = _pushes[loop] = asyncio.Queue()
        sender = loop.create_task(_send_pushes(queue))
        _senders.add(sender)
        sender.add_done_callback(_senders.discard)
        sender.add_done_callback(lambda _: _pushes.pop(loop, None))
    queue.put_nowait((group, message))


@subscribe
def push_to_dashboards(event: Event) -> None:
    if event.tenant_id is None:
        return

    def send():
        group = dashboard_group(event.tenant_id)
        message = {"type": "domain.event", "name": event.name, "data": event.data}
        loop = socket_loop.get()
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_queue_push, group, message)
        else:
            async_to_sync(_group_send)(group, message)

    transaction.on_commit(send)
