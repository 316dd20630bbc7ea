import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer
from django.db.models import Count
from django.utils import timezone

from chargers import commands
from chargers.events import ChargerOffline
from chargers.models import Charger, OcppMessage
from cpms.events import publish
from cpms.models import Tenant

log = logging.getLogger(__name__)

# The message log keeps at most this many frames per charger, and nothing older than a month.
MESSAGE_LOG_PER_CHARGER = 2000
MESSAGE_LOG_DAYS = 30


@shared_task(platform=True)
def mark_silent_chargers_offline() -> int:
    """A charger is offline once nothing has arrived for its tenant's multiple of the
    heartbeat interval, even while its socket looks open (half-open TCP is common)."""
    now = timezone.now()
    marked = 0
    for tenant in Tenant.objects.filter(is_active=True):
        silence = timedelta(seconds=tenant.heartbeat_interval * tenant.offline_after_heartbeats)
        silent = Charger.objects.filter(tenant=tenant, is_online=True, last_seen__lt=now - silence)
        for charger in silent.only("pk", "tenant_id", "identity", "channel_name"):
            # Only if still silent: a frame may have arrived since the query.
            if Charger.objects.filter(
                pk=charger.pk, is_online=True, last_seen__lt=now - silence
            ).update(is_online=False):
                publish(ChargerOffline.of(charger))
                tell_socket(charger.channel_name)
                marked += 1
    return marked


@shared_task(platform=True)
def time_out_stale_commands() -> int:
    """Commands whose sender stopped waiting would otherwise show as pending forever."""
    return commands.time_out_stale()


def tell_socket(channel_name: str) -> None:
    """If the socket is still open, its next frame should mark the charger online at once."""
    if not channel_name:
        return
    try:
        async_to_sync(get_channel_layer().send)(channel_name, {"type": "charger.silenced"})
    except Exception:  # the consumer will still touch within its usual interval
        log.warning("could not tell %s that its charger was marked offline", channel_name)


@shared_task(platform=True)
def trim_message_log() -> int:
    deleted, _ = OcppMessage.objects.filter(
        at__lt=timezone.now() - timedelta(days=MESSAGE_LOG_DAYS)
    ).delete()
    crowded = (
        OcppMessage.objects.values("charger")
        .annotate(n=Count("pk"))
        .filter(n__gt=MESSAGE_LOG_PER_CHARGER)
    )
    for row in crowded:
        cutoff = (
            OcppMessage.objects.filter(charger_id=row["charger"])
            .order_by("-pk")
            .values_list("pk", flat=True)[MESSAGE_LOG_PER_CHARGER - 1]
        )
        deleted += OcppMessage.objects.filter(charger_id=row["charger"], pk__lt=cutoff).delete()[0]
    return deleted
