import logging

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer
from django.utils import timezone

from chargers.models import Charger, Command
from chargers.ocpp import transaction_status
from chargers.services.commands import commands_time_out_stale
from chargers.services.connections import (
    chargers_mark_silent_offline,
    handshake_refusals_trim,
    message_log_trim,
)
from chargers.services.sessions import sessions_close_stale
from cpms.handoff import queue_task
from cpms.tenancy.scoping import each_tenant

log = logging.getLogger(__name__)


@shared_task(platform=True)
def mark_silent_chargers_offline() -> int:
    """A charger is offline once nothing has arrived for its tenant's multiple of the
    heartbeat interval, even while its socket looks open (half-open TCP is common)."""
    marked = 0
    for _ in each_tenant():
        for charger in chargers_mark_silent_offline(now=timezone.now()):
            tell_socket(charger.channel_name)
            marked += 1
    return marked


@shared_task(platform=True)
def time_out_stale_commands() -> int:
    """Commands whose sender stopped waiting would otherwise show as pending forever."""
    return commands_time_out_stale()


@shared_task(platform=True)
def close_stale_sessions() -> int:
    """Beat: close each tenant's sessions whose charger never sent their stop, after the
    tenant's time without word of them (a stop sent later still replaces the server's)."""
    closed = 0
    for _ in each_tenant():
        closed += len(sessions_close_stale(now=timezone.now()))
    return closed


def tell_socket(channel_name: str) -> None:
    """If the socket is still open, its next frame should mark the charger online at once."""
    if not channel_name:
        return
    try:
        layer = get_channel_layer()
        # The settings always configure a layer; without one no socket could be told anyway.
        if layer is not None:
            async_to_sync(layer.send)(channel_name, {"type": "charger.silenced"})
    except Exception:  # the consumer will still touch within its usual interval
        log.warning("could not tell %s that its charger was marked offline", channel_name)


@shared_task(platform=True)
def trim_message_log() -> int:
    return message_log_trim()


@shared_task(platform=True)
def trim_handshake_refusals() -> int:
    return handshake_refusals_trim()


@shared_task
def transaction_status_answered(*, tenant_id: int, command_id: int) -> None:
    """A question about a transaction's queued reports has its outcome: ask again later, or
    not (`chargers.ocpp.transaction_status`)."""
    command = Command.objects.filter(pk=command_id).first()
    if command is None:
        return
    step, pause = transaction_status.next_step(command)
    if step == transaction_status.AGAIN:
        queue_task(
            ask_transaction_status_again,
            countdown=pause,
            tenant_id=tenant_id,
            charger_id=command.charger_id,
            transaction_id=transaction_status.asked_about(command),
        )


@shared_task
def ask_transaction_status_again(*, tenant_id: int, charger_id: int, transaction_id: str) -> None:
    charger = Charger.objects.filter(pk=charger_id).first()
    if charger is not None:
        transaction_status.ask_again(charger=charger, transaction_id=transaction_id)
