"""The sending side of the dashboards' live channel: every committed domain event of a tenant is
pushed to the tenant's dashboard group as `{"type": "domain.event", "name", "data"}`, which
`live.DashboardConsumer` forwards to the browsers that may hear it.

`push_to_dashboards` is an after-commit listener (the bus defers it), so nobody hears of a
fact that was rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cpms import handoff
from cpms.channel_layer import cancel_requested
from cpms.events import DomainEvent

log = logging.getLogger(__name__)


def dashboard_group(tenant_id: int) -> str:
    """The channel group of a tenant's live dashboards; names are only ever made here."""
    return f"dashboard.tenant.{tenant_id}"


# The event loop of the charger socket whose database work is running (the OCPP consumers set
# it; context variables follow that work onto its thread). Pushes are handed to that loop rather
# than awaited on the database thread, which has the next charger's message to write; one task
# per loop sends them in order, so a storm of events never opens more Redis connections. While
# Redis stalls the queue fills up to its bound, and then pushes are dropped and counted.
socket_loop: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("socket_loop", default=None)
_pushes: dict[asyncio.AbstractEventLoop, asyncio.Queue] = {}
_senders: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks


async def _group_send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:  # settings name a layer in every configuration
        raise ImproperlyConfigured("CHANNEL_LAYERS names no default layer")
    try:
        await layer.group_send(group, message)
    except Exception:  # a dashboard that misses an update reloads; the fact is stored
        what = message.get("name") or f"{len(message.get('events', ()))} events"
        log.warning("could not push %s to dashboards", what, exc_info=True)


# The pushes of up to PUSH_INTERVAL seconds go out together, one message per dashboard group
# ("domain.events", in order), BATCH at most: each went as a Redis round trip of its own (a
# twentieth of the server's time in a session benchmark, and a MeterValues a second per charger
# made one each). A page hears of a fact that much later.
BATCH = 200
PUSH_INTERVAL = 0.1


async def _send_pushes(queue: asyncio.Queue) -> None:
    # Until cancelled, even when the cancel came during a send that swallowed it: the closing
    # loop waits for this task to end.
    while not cancel_requested():
        waiting = [await queue.get()]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PUSH_INTERVAL):
                while len(waiting) < BATCH:
                    waiting.append(await queue.get())
        for group, message in by_group(waiting):
            await _group_send(group, message)


def by_group(pushes: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """`pushes` as one message per group, in order: a push alone as it is, several as one
    "domain.events" message carrying each event's name and data."""
    grouped: dict[str, list[dict]] = {}
    for group, message in pushes:
        grouped.setdefault(group, []).append(message)
    return [
        (
            group,
            messages[0]
            if len(messages) == 1
            else {
                "type": "domain.events",
                "events": [{"name": m["name"], "data": m["data"]} for m in messages],
            },
        )
        for group, messages in grouped.items()
    ]


def _queue_push(group: str, message: dict) -> None:
    """On the socket's loop: queue the push for the loop's sender, started on first use."""
    loop = asyncio.get_running_loop()
    queue = _pushes.get(loop)
    if queue is None:
        queue = _pushes[loop] = asyncio.Queue(maxsize=settings.HANDOFF_QUEUE_SIZE)
        # The sender serves every socket of the loop: it starts in an empty context, not in
        # the tenant scope of the socket whose push happened to start it.
        sender = loop.create_task(_send_pushes(queue), context=contextvars.Context())
        _senders.add(sender)
        sender.add_done_callback(_senders.discard)
        sender.add_done_callback(lambda _: _pushes.pop(loop, None))
    try:
        queue.put_nowait((group, message))
    except asyncio.QueueFull:  # Redis stalls: the pages catch up when they reload
        handoff.count_drop(f"push of {message['name']}")


def push_to_dashboards(event: DomainEvent) -> None:
    """After commit: ring the tenant's dashboards (platform events, without a tenant, ring none)."""
    if event.tenant_id is None:
        return
    group = dashboard_group(event.tenant_id)
    message = {"type": "domain.event", "name": event.name, "data": event.data()}
    loop = socket_loop.get()
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(_queue_push, group, message)
    else:
        async_to_sync(_group_send)(group, message)
