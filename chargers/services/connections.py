"""Writes about sockets: a connection opened, replaced or closed, liveness, refused handshakes,
the message log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from chargers.events import ChargerOffline, ChargerOnline, HandshakeRefused
from chargers.models import (
    Charger,
    ConnectionEvent,
    HandshakeRefusal,
    OcppMessage,
)
from cpms.events import publish
from cpms.models import Tenant
from cpms.tenancy import scoping
from cpms.tenancy.rows import insert_rows


@transaction.atomic
def handshake_refusal_record(
    *,
    tenant: Tenant | None,
    tenant_slug: str,
    identity: str,
    remote_addr: str,
    reason: str,
    detail: str = "",
) -> None:
    refusal = HandshakeRefusal(
        tenant=tenant,
        tenant_slug=tenant_slug[:100],
        identity=identity[:100],
        remote_addr=remote_addr[:64],
        reason=reason,
        detail=detail[:255],
        at=timezone.now(),
    )
    refusal.save()
    publish(HandshakeRefused.of(refusal))


@transaction.atomic
def connection_open(
    *,
    charger_id: int,
    channel_name: str,
    node: str,
    remote_addr: str,
    version: str,
    known: Charger | None = None,
) -> tuple[str, int]:
    """Make this socket the charger's socket; return the channel of the one it replaces.

    `known` is the charger as the handshake read it. While the socket it names is still the
    recorded one, a conditional UPDATE takes over without reading and locking the row first;
    when another socket came or went since, the row is read under its lock.
    """
    now = timezone.now()
    state = {
        "channel_name": channel_name,
        "node": node,
        "remote_addr": remote_addr,
        "is_online": True,
        "connected_at": now,
        "last_seen": now,
        "ocpp_version": version,
    }
    charger = known
    if charger is None or not Charger.objects.filter(
        pk=charger_id, channel_name=charger.channel_name
    ).update(**state):
        charger = Charger.objects.select_for_update().get(pk=charger_id)
        Charger.objects.filter(pk=charger_id).update(**state)
    previous = charger.channel_name
    # Only a charger with a socket recorded can have a connection left open: connection_close
    # closes the socket's record in the transaction that clears the channel, and each new socket
    # closes all older records. A fleet that went away cleanly reconnects without this UPDATE.
    if previous:
        ConnectionEvent.objects.filter(charger_id=charger_id, disconnected_at__isnull=True).update(
            disconnected_at=now, close_reason="replaced by a new connection"
        )
    event = ConnectionEvent.objects.create(
        charger_id=charger_id,
        tenant_id=charger.tenant_id,
        connected_at=now,
        node=node,
        remote_addr=remote_addr,
        ocpp_version=version,
    )
    publish(ChargerOnline.of(charger, ocpp_version=version))
    return (previous if previous != channel_name else ""), event.pk


@transaction.atomic
def connection_close(
    *, charger_id: int, channel_name: str, connection_event_id: int, reason: str
) -> None:
    """Mark the charger offline, unless a newer socket has taken over already, and close the
    socket's record: in one transaction, locking the charger's row before the record's, as
    `connection_open` does (the other order deadlocked a charger reconnecting at once)."""
    now = timezone.now()
    went_offline = Charger.objects.filter(pk=charger_id, channel_name=channel_name).update(
        is_online=False, channel_name="", last_seen=now
    )
    ConnectionEvent.objects.filter(pk=connection_event_id, disconnected_at__isnull=True).update(
        disconnected_at=now, close_reason=reason[:100]
    )
    if went_offline:
        charger = Charger.objects.only("tenant_id", "identity").get(pk=charger_id)
        publish(ChargerOffline.of(charger))


@transaction.atomic
def charger_touch(*, charger_id: int, channel_name: str) -> None:
    """A frame on the charger's socket `channel_name` proves it alive, even marked offline for
    silence; a socket that has closed, or been replaced, proves nothing."""
    now = timezone.now()
    back = Charger.objects.filter(pk=charger_id, channel_name=channel_name, is_online=False).update(
        last_seen=now, is_online=True
    )
    if back:
        charger = Charger.objects.only("tenant_id", "identity").get(pk=charger_id)
        publish(ChargerOnline.of(charger))
    else:
        Charger.objects.filter(pk=charger_id).update(last_seen=now)


def chargers_touch(*, sockets: dict[int, str]) -> None:
    """The liveness of every charger a process heard from lately (charger id -> the socket's
    channel name), in one write: any frame proves a charger alive, even one marked offline for
    silence, as long as it came on the socket the charger still has (one that closed since
    must not bring it back online). No transaction of its own: each write stands alone (this
    runs every 30 s for every charger of a process)."""
    now = timezone.now()
    with scoping.unscoped():
        Charger.objects.filter(pk__in=sockets, is_online=True).update(last_seen=now)
        offline = Charger.objects.filter(pk__in=sockets, is_online=False).exclude(channel_name="")
        for charger_id, channel_name in offline.values_list("pk", "channel_name"):
            if sockets[charger_id] == channel_name:
                charger_touch(charger_id=charger_id, channel_name=channel_name)


def message_log_append(rows: list[dict[str, Any]]) -> None:
    """Store message-log rows (dicts of OcppMessage fields, tenant included)."""
    insert_rows(OcppMessage, rows)


def chargers_mark_silent_offline(*, now: datetime) -> list[Charger]:
    """Mark offline the active tenant's chargers that sent nothing for its multiple of the
    heartbeat interval; returns them (with their socket's channel, to be told)."""
    tenant = scoping.current_tenant()
    if tenant is None:
        raise scoping.TenantScopeError("marking chargers silent needs a tenant's scope")
    silence = timedelta(seconds=tenant.heartbeat_interval * tenant.offline_after_heartbeats)
    silent = Charger.objects.filter(is_online=True, last_seen__lt=now - silence)
    marked = []
    for charger in silent.only("pk", "tenant_id", "identity", "channel_name"):
        # Only if still silent: a frame may have arrived since the query.
        if Charger.objects.filter(
            pk=charger.pk, is_online=True, last_seen__lt=now - silence
        ).update(is_online=False):
            publish(ChargerOffline.of(charger))
            marked.append(charger)
    return marked


# The message log keeps at most this many frames per charger, and nothing older than a month.
MESSAGE_LOG_PER_CHARGER = 2000
MESSAGE_LOG_DAYS = 30


def message_log_trim() -> int:
    """Bound every charger's message log (platform work: every tenant at once); returns how
    many frames went."""
    with scoping.unscoped():
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
            deleted += OcppMessage.objects.filter(
                charger_id=row["charger"], pk__lt=cutoff
            ).delete()[0]
    return deleted


# Refused handshakes are kept this long: enough to see a pattern, not a store an attacker fills.
HANDSHAKE_REFUSAL_DAYS = 30


def handshake_refusals_trim() -> int:
    """Forget refused handshakes older than `HANDSHAKE_REFUSAL_DAYS` (platform work: every
    tenant and the unknown ones at once); returns how many went."""
    with scoping.unscoped():
        cutoff = timezone.now() - timedelta(days=HANDSHAKE_REFUSAL_DAYS)
        return HandshakeRefusal.objects.filter(at__lt=cutoff).delete()[0]
