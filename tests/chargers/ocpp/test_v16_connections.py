"""Connections: online and offline, replacement by a newer socket, the message log."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call

from chargers import tasks
from chargers.models import Charger, ConnectionEvent, OcppMessage
from chargers.services.connections import chargers_touch
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import connected
from tests.chargers.ocpp.fixtures import SERVER_APPLICATION_NAME

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_charger_is_online_while_connected_and_offline_after(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        online = await in_a(tenant_a, lambda: Charger.objects.get())
        assert online.is_online and online.channel_name and online.node

    async def offline():
        return not (await in_a(tenant_a, lambda: Charger.objects.get())).is_online

    await eventually(offline)
    history = await in_a(tenant_a, lambda: list(ConnectionEvent.objects.all()))
    assert len(history) == 1 and history[0].disconnected_at is not None


async def test_a_new_socket_for_the_same_id_replaces_the_old_one(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as old:
        await old.boot()
        async with connected(ocpp_server, "tenant-a", "CP-1") as new:
            await new.boot()
            await asyncio.wait_for(old._connection.wait_closed(), 10)
            assert old._connection.close_code == 4000
            assert (await new.call(call.Heartbeat())).current_time
            stored = await in_a(tenant_a, lambda: Charger.objects.get())
            assert stored.is_online
        events = await in_a(
            tenant_a, lambda: list(ConnectionEvent.objects.order_by("connected_at"))
        )
        assert len(events) == 2 and events[0].disconnected_at is not None


async def test_the_old_sockets_goodbye_does_not_mark_the_new_one_offline(
    ocpp_server, tenant_a, charger
):
    async with connected(ocpp_server, "tenant-a", "CP-1") as old:
        await old.boot()
        async with connected(ocpp_server, "tenant-a", "CP-1") as new:
            await asyncio.wait_for(old._connection.wait_closed(), 10)
            await asyncio.sleep(0.3)
            assert (await in_a(tenant_a, lambda: Charger.objects.get())).is_online
            await new.call(call.Heartbeat())


async def test_every_frame_in_both_directions_is_in_the_message_log(ocpp_server, tenant_a, charger):
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(call.Heartbeat())

    # The server writes the log right after answering, so the last row may trail the reply.
    async def four_rows():
        return await in_a(tenant_a, lambda: OcppMessage.objects.count()) == 4

    await eventually(four_rows)
    log = await in_a(
        tenant_a,
        lambda: list(
            OcppMessage.objects.order_by("id").values_list("incoming", "message_type", "action")
        ),
    )
    assert log == [
        (True, 2, "BootNotification"),
        (False, 3, ""),
        (True, 2, "Heartbeat"),
        (False, 3, ""),
    ]


def test_silent_chargers_are_marked_offline_by_the_periodic_job(tenant_a, make_charger):
    from datetime import timedelta

    from django.utils import timezone

    quiet = make_charger(
        tenant_a,
        identity="QUIET",
        is_online=True,
        last_seen=timezone.now() - timedelta(seconds=901),
    )
    fresh = make_charger(tenant_a, identity="FRESH", is_online=True, last_seen=timezone.now())
    # Called as beat's worker calls it (not apply().get(): Celery's join guard is process-wide,
    # and an eager task in another test's thread can leave it up).
    assert tasks.mark_silent_chargers_offline() == 1
    quiet.refresh_from_db()
    fresh.refresh_from_db()
    assert not quiet.is_online and fresh.is_online


def test_the_chargers_heard_from_get_their_last_seen_in_one_write(
    tenant_a, tenant_b, make_charger, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(hours=1)
    online = {"is_online": True, "last_seen": long_ago}
    mine = make_charger(tenant_a, identity="A-1", channel_name="s1", **online)
    theirs = make_charger(tenant_b, identity="B-1", channel_name="s2", **online)
    unheard = make_charger(tenant_a, identity="A-3", channel_name="s3", **online)
    # Marked offline for silence, its socket still open: heard again, it is back online.
    silenced = make_charger(
        tenant_a, identity="A-2", channel_name="s4", is_online=False, last_seen=long_ago
    )
    with django_assert_max_num_queries(2):
        chargers_touch(sockets={mine.pk: "s1", theirs.pk: "s2"})
    chargers_touch(sockets={silenced.pk: "s4"})
    for charger in (mine, theirs, silenced, unheard):
        charger.refresh_from_db()
    assert mine.last_seen > long_ago and theirs.last_seen > long_ago
    assert silenced.is_online and silenced.last_seen > long_ago
    assert unheard.last_seen == long_ago


def test_a_charger_heard_from_just_before_its_socket_closed_stays_offline(tenant_a, make_charger):
    # The liveness writer runs every 30 s with the chargers heard since; one of them may have
    # disconnected meanwhile. Its closed socket must not bring it back online ("ghost online"),
    # nor may a socket that another has replaced.
    from chargers.events import ChargerOnline
    from chargers.services.connections import connection_close
    from cpms.events import captured
    from cpms.tenancy import scoping

    gone = make_charger(tenant_a, identity="GONE", channel_name="old", is_online=True)
    replaced = make_charger(tenant_a, identity="REPL", channel_name="new", is_online=False)
    with scoping.scope(tenant_a):
        connection_close(
            charger_id=gone.pk, channel_name="old", connection_event_id=0, reason="closed"
        )
    with captured(ChargerOnline) as published:
        chargers_touch(sockets={gone.pk: "old", replaced.pk: "old"})
    gone.refresh_from_db()
    replaced.refresh_from_db()
    assert not gone.is_online and not replaced.is_online
    assert published == []


async def test_a_charger_marked_offline_for_silence_is_online_again_at_its_next_frame(
    command_server, tenant_a, charger
):
    from datetime import timedelta

    from django.utils import timezone

    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await in_a(
            tenant_a, lambda: Charger.objects.update(last_seen=timezone.now() - timedelta(hours=1))
        )
        assert await sync_to_async(tasks.mark_silent_chargers_offline)() == 1
        assert not (await in_a(tenant_a, lambda: Charger.objects.get())).is_online

        async def told():
            # The consumer hears of it over the channel layer; a heartbeat then revives it.
            await cp.call(call.Heartbeat())
            return (await in_a(tenant_a, lambda: Charger.objects.get())).is_online

        await eventually(told)


async def test_after_a_database_restart_the_next_message_is_answered_as_usual(
    ocpp_server, tenant_a, charger
):
    # A PostgreSQL restart, as the server's pooled connections see it: each one is ended by
    # the database. The server must not answer a charger with InternalError because of it.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a database server restart is PostgreSQL's")

    def end_the_servers_sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                # Waiting (up to 10 s) for each to have ended, as a restart has before the
                # server's next query.
                "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = %s",
                [SERVER_APPLICATION_NAME],
            )
            return cursor.fetchone()[0]

    status = call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(status)  # the server's threads each hold a pooled connection now
        assert await sync_to_async(end_the_servers_sessions)() >= 1
        for _ in range(3):
            reply = await cp.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"),
                suppress=False,
            )
            assert reply is not None
