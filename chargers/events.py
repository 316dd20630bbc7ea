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
# than awaited on the database thread, which has the next charger's message to write.
socket_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("socket_loop", default=None)


async def _group_send(group: str, message: dict) -> None:
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:  # a dashboard that misses an update reloads; the fact is stored
        log.warning("could not push %s to dashboards", message["name"], exc_info=True)


@subscribe
def push_to_dashboards(event: Event) -> None:
    if event.tenant_id is None:
        return

    def send():
        group = dashboard_group(event.tenant_id)
        message = {"type": "domain.event", "name": event.name, "data": event.data}
        loop = socket_loop.get()
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(_group_send(group, message), loop)
        else:
            async_to_sync(_group_send)(group, message)

    transaction.on_commit(send)
