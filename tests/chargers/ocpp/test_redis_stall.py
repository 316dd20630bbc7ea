"""A Redis that stops answering (a stall, a restart) delays dashboards, webhooks and commands,
never the answers to chargers, and closes no charger's socket: the server here uses a Redis of
its own, which the tests stop (SIGSTOP) or restart while chargers are connected."""

import asyncio

import pytest
import redis
from asgiref.sync import sync_to_async
from channels_redis.core import RedisChannelLayer
from django.db import connection
from ocpp.v16 import call

from chargers.models import Charger, ChargingSession
from cpms.services.webhooks import webhook_endpoint_create
from cpms.tenancy import scoping
from tests.aio import in_a
from tests.chargers.ocpp.clients import connected, now
from tests.helpers import (
    child_env,
    database_url,
    own_redis,
    running_server,
    stalled,
    stop_process_group,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_chargers_are_answered_while_redis_stalls(tenant_a, charger):
    # Every kind of Redis use on the answer's way: dashboard pushes of each fact, webhook
    # deliveries and alert evaluations handed to Celery.
    with scoping.scope(tenant_a):
        await sync_to_async(webhook_endpoint_create)(
            url="https://hooks.a.test/cpms", event_types=["session.started", "session.stopped"]
        )
    with own_redis() as (redis_server, redis_url):
        env = child_env(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=redis_url)
        with running_server(env, "--no-worker") as port:
            async with connected(f"ws://127.0.0.1:{port}", "tenant-a", "CP-1") as cp:
                await cp.boot()
                with stalled(redis_server):
                    await cp.call(
                        call.StatusNotification(
                            connector_id=1, error_code="GroundFailure", status="Faulted"
                        )
                    )
                    started = await cp.call(
                        call.StartTransaction(
                            connector_id=1, id_tag="04AABBCC", meter_start=1000, timestamp=now()
                        )
                    )
                    for value in ("2000", "3000"):
                        await cp.call(
                            call.MeterValues(
                                connector_id=1,
                                transaction_id=started.transaction_id,
                                meter_value=[
                                    {"timestamp": now(), "sampledValue": [{"value": value}]}
                                ],
                            )
                        )
                    stopped = await cp.call(
                        call.StopTransaction(
                            transaction_id=started.transaction_id,
                            meter_stop=4000,
                            timestamp=now(),
                        )
                    )
                    assert stopped is not None
                # Redis back: the socket the stall did not close is still served.
                assert (await cp.call(call.Heartbeat())).current_time
                assert redis.Redis.from_url(redis_url).ping()

    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.energy_wh == 3000


async def test_a_redis_restart_closes_no_charger_socket_and_commands_reach_it_again(
    tenant_a, charger
):
    with own_redis() as (redis_server, redis_url):
        port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        env = child_env(DATABASE_URL=database_url(connection.settings_dict), REDIS_URL=redis_url)
        with running_server(env, "--no-worker") as server_port:
            async with connected(f"ws://127.0.0.1:{server_port}", "tenant-a", "CP-1") as cp:
                await cp.boot()
                stop_process_group(redis_server)  # the socket's channel loses its Redis
                assert (await cp.call(call.Heartbeat())).current_time
                with own_redis(port):
                    assert (await cp.call(call.Heartbeat())).current_time
                    # The socket's channel hears again: told it was replaced, it closes.
                    stored = await in_a(tenant_a, lambda: Charger.objects.get())
                    layer = RedisChannelLayer(hosts=[redis_url])
                    await layer.send(stored.channel_name, {"type": "ocpp.replaced"})
                    await asyncio.wait_for(cp._connection.wait_closed(), 30)
                    assert cp._connection.close_code == 4000
                    await layer.flush()
