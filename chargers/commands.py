"""Commands to chargers: the one way in, from any process.

`send_command` (and its async twin `asend_command`) records the command before anything is
sent, then rings the doorbell of the consumer holding the charger's socket over the channel
layer, whichever daphne process that is. The consumer runs the call as its own task and writes
the outcome into the same row (`command_finish`), so the database, not the channel layer, is the
record: a lost doorbell shows as a timeout, never as a silently missing command. Recording an
outcome publishes `command.finished`, which live dashboards hear. The record's writes are the
services of `chargers.services.commands`; this module routes and waits.

Waiting for an outcome is for tasks, management commands, the shell and async code, and goes
through `wait_for_outcome`. Request threads never wait: views and the API send with
`wait=False` and the page or the client learns the outcome later. A command whose sender
stopped waiting (its process died, or it was sent without waiting and nothing finished it) is
given up on by `commands_time_out_stale`, a periodic job, once well past its deadline.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypedDict, Unpack

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp import JsonDict
from chargers.services.commands import (
    DEFAULT_TIMEOUT,
    STALE_MARGIN,
    UNFINISHED,
    command_create,
    command_finish,
    patience,
)
from cpms.models import User
from cpms.tenancy import scoping

DOORBELL_PATIENCE = 0.5  # seconds between looks at the command's row while waiting
# How often `commands_time_out_stale` runs (the beat schedule's `time-out-stale-commands`).
SWEEP_INTERVAL = timedelta(minutes=1)


class SendOptions(TypedDict, total=False):
    """The options of `asend_command` after its charger, action and payload."""

    requested_by: User | None
    source: str
    timeout: float
    wait: bool


def pending_at_most(timeout: float) -> timedelta:
    """How long after its creation a command with this `timeout` that nothing finishes can
    still read as pending: `commands_time_out_stale` records its timeout at the sweep's first run
    past the sender's deadline and the margin."""
    return timedelta(seconds=patience(timeout)) + STALE_MARGIN + SWEEP_INTERVAL


def _socket_of(charger: Charger) -> str:
    online = Charger.objects.filter(pk=charger.pk, is_online=True)
    return online.values_list("channel_name", flat=True).first() or ""


async def asend_command(
    charger: Charger,
    action: str,
    payload: JsonDict,
    *,
    requested_by: User | None = None,
    source: str = "system",
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (the charger's time to answer)
    wait: bool = True,
) -> Command:
    """Send `action` with its OCPP `payload` (camelCase, as on the wire) to `charger`.

    Returns the Command row: answered (with the reply), call_error, timeout, offline or
    refused. With wait=False it returns as soon as the command is on its way; poll the row.
    """
    # The charger was read in its tenant's scope; its command is recorded in the same one.
    tenant = await database_sync_to_async(lambda: charger.tenant)()
    with scoping.scope(tenant):
        return await _send(
            charger,
            action,
            payload,
            requested_by=requested_by,
            source=source,
            reply_timeout=timeout,
            wait=wait,
        )


async def _send(charger, action, payload, *, requested_by, source, reply_timeout, wait) -> Command:
    command = await database_sync_to_async(command_create)(
        charger=charger,
        action=action,
        payload=payload,
        requested_by=requested_by,
        source=source,
        timeout=reply_timeout,
    )
    channel = await database_sync_to_async(_socket_of)(charger)
    if not channel:
        await database_sync_to_async(command_finish)(
            command_id=command.pk,
            status=CommandStatus.OFFLINE,
            error="The charger is not connected.",
        )
        return await _reload(command)
    layer = get_channel_layer()
    try:
        if layer is None:  # settings name a layer in every configuration
            raise ImproperlyConfigured("CHANNEL_LAYERS names no default layer")
        reply_to = await layer.new_channel() if wait else ""
        await layer.send(
            channel,
            {
                "type": "ocpp.command",
                "command_id": command.pk,
                "action": action,
                "payload": payload,
                "timeout": reply_timeout,
                "reply_to": reply_to,
            },
        )
    except Exception as error:  # the channel layer (Redis) is down or overloaded
        await database_sync_to_async(command_finish)(
            command_id=command.pk,
            status=CommandStatus.REFUSED,
            error=f"Could not reach the charger's connection: {error!r}",
        )
        return await _reload(command)
    if not wait:
        return await _reload(command)
    if not await wait_for_outcome(command.pk, seconds=patience(reply_timeout), doorbell=reply_to):
        await database_sync_to_async(command_finish)(
            command_id=command.pk,
            status=CommandStatus.TIMEOUT,
            error="No answer from the charger's connection.",
        )
    return await _reload(command)


async def wait_for_outcome(command_id: int, *, seconds: float, doorbell: str = "") -> bool:
    """Wait up to `seconds` for the command's outcome to be recorded; whether it was.

    `doorbell` is the channel the command was sent with as `reply_to`: the consumer rings it
    once the outcome is in the row. The row is looked at too, every `DOORBELL_PATIENCE`
    seconds, since a doorbell may be lost (and a command sent without one has only the row).
    Run it in the command's tenant scope. The one way to wait for a charger, and never from
    a request thread: a thread held here is a thread no page or API client gets.
    """
    layer = get_channel_layer() if doorbell else None
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + seconds
    while (left := give_up_at - loop.time()) > 0:
        try:
            if layer is None:
                await asyncio.sleep(min(DOORBELL_PATIENCE, left))
            else:
                # The consumer rings only after it has written the outcome.
                await asyncio.wait_for(layer.receive(doorbell), min(DOORBELL_PATIENCE, left))
                return True
        except TimeoutError:
            pass
        except Exception:  # the layer hiccuped; the row still tells
            await asyncio.sleep(min(DOORBELL_PATIENCE, left))
        if await database_sync_to_async(_finished)(command_id):
            return True
    return await database_sync_to_async(_finished)(command_id)


def _finished(command_id: int) -> bool:
    return not Command.objects.filter(pk=command_id, status__in=UNFINISHED).exists()


async def _reload(command: Command) -> Command:
    @database_sync_to_async
    def reload():
        command.refresh_from_db()
        return command

    return await reload()


def send_command(
    charger: Charger, action: str, payload: JsonDict, **options: Unpack[SendOptions]
) -> Command:
    """The synchronous twin of `asend_command`, for tasks, management commands and the shell;
    views and API views pass `wait=False` (their threads must not wait for a charger)."""
    return async_to_sync(asend_command)(charger, action, payload, **options)


def notify_consumer(charger: Charger, event: dict[str, Any]) -> None:
    """Tell the consumer holding the charger's socket that something changed, if any does."""
    channel = _socket_of(charger)
    if channel:
        layer = get_channel_layer()
        if layer is None:  # settings name a layer in every configuration
            raise ImproperlyConfigured("CHANNEL_LAYERS names no default layer")
        async_to_sync(layer.send)(channel, event)
