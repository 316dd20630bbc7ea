"""A node stopped with SIGTERM (systemd's and docker's stop) drains: out of rotation at once,
the frames its chargers sent answered, their sockets closed as going away (1001), then it
exits. The server here is a process of the test's own, since the test stops it."""

import asyncio
import json
import signal
import urllib.error
import urllib.request

import psycopg
import pytest
import websockets
from asgiref.sync import sync_to_async
from django.db import connection, connections
from ocpp.v16 import call

from chargers.models import ChargingSession
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import basic, connected, now
from tests.helpers import child_env, database_url, server_process

pytestmark = pytest.mark.django_db(transaction=True)


def readiness(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def waiting_for_a_lock(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        ).fetchone()
        return bool(row and row[0])


async def test_a_stopped_node_answers_what_it_received_then_closes_with_going_away(
    tenant_a, charger
):
    if connection.vendor != "postgresql":
        pytest.skip("the test holds the server's write with a PostgreSQL table lock")
    dsn = database_url(connection.settings_dict)
    env = child_env(DATABASE_URL=dsn, LOG_LEVEL="WARNING", DRAIN_SECONDS="60")
    with server_process(env, "--no-worker") as (server, port):
        server_url = f"ws://127.0.0.1:{port}"
        async with connected(server_url, "tenant-a", "CP-1") as cp:
            await cp.boot()
            # The server's StartTransaction is held by a lock on the sessions' table, so the
            # node is told to stop while the charger's frame is in its hands.
            lock = await psycopg.AsyncConnection.connect(
                dsn.replace("postgres://", "postgresql://")
            )
            await lock.execute("LOCK TABLE chargers_chargingsession IN ACCESS EXCLUSIVE MODE")
            start = asyncio.create_task(
                cp.call(
                    call.StartTransaction(
                        connector_id=1, id_tag="04AABBCC", meter_start=1000, timestamp=now()
                    )
                )
            )
            try:
                await eventually(lambda: asyncio.to_thread(waiting_for_a_lock, dsn))
                server.send_signal(signal.SIGTERM)

                # Out of rotation at once: readiness and new chargers are refused with 503.
                async def not_ready():
                    return (await asyncio.to_thread(readiness, port))[0] == 503

                await eventually(not_ready)
                assert (await asyncio.to_thread(readiness, port))[1]["status"] == "draining"
                with pytest.raises(websockets.InvalidStatus) as refused:
                    await websockets.connect(
                        f"{server_url}/ocpp/tenant-a/CP-1",
                        subprotocols=["ocpp1.6"],
                        additional_headers=basic("CP-1", "charger-password-0123"),
                        open_timeout=10,
                    )
                assert refused.value.response.status_code == 503
                assert not start.done()
            finally:
                await lock.rollback()
                await lock.close()
            # The frame received before the stop is answered, then the socket goes away.
            started = await start
            assert started.transaction_id
            await asyncio.wait_for(cp._connection.wait_closed(), 60)
            assert cp._connection.close_code == 1001
        assert await asyncio.to_thread(server.wait, 60) == 0
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.transaction_id == str(started.transaction_id)
    # The test's own database thread lets go of its connection: the test database is dropped.
    await sync_to_async(connections.close_all)()
