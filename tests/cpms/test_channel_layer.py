"""The Redis channel layer's receive: it waits for Redis to come back, but never keeps a
cancelled consumer (a closing socket, a closing event loop) waiting. The stall and restart
themselves are tested end to end in tests/chargers/ocpp/test_redis_stall.py."""

import asyncio

import channels_redis.core
import redis

from cpms import channel_layer
from cpms.channel_layer import RedisChannelLayer
from tests.helpers import own_redis


def layer() -> RedisChannelLayer:
    return RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"])  # nothing is asked of it here


async def test_it_receives_again_after_redis_failed(monkeypatch):
    calls = []

    async def flaky(self, channel):
        calls.append(channel)
        if len(calls) < 3:
            raise redis.ConnectionError("Connection closed by server.")
        return {"type": "ocpp.replaced"}

    monkeypatch.setattr(channels_redis.core.RedisChannelLayer, "receive", flaky)
    monkeypatch.setattr(channel_layer, "RETRY_FIRST", 0.01)
    assert await layer().receive("specific.x!y") == {"type": "ocpp.replaced"}
    assert len(calls) == 3


async def test_a_cancelled_receive_ends_even_when_the_cancel_came_as_a_timeout(monkeypatch):
    reads = []

    async def cancelled_as_timeout(self, channel):
        reads.append(channel)
        if len(reads) > 1:
            await asyncio.Event().wait()  # Redis would answer nothing more: wait forever
        # The loop closes while the read times out: the cancellation is delivered, and what
        # surfaces is the read's timeout (the task still counts the cancel request).
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise redis.TimeoutError("Timeout reading from socket") from None

    monkeypatch.setattr(channels_redis.core.RedisChannelLayer, "receive", cancelled_as_timeout)
    task = asyncio.create_task(layer().receive("specific.x!y"))
    done, _ = await asyncio.wait({task}, timeout=30)
    assert task in done and len(reads) == 1
    assert isinstance(task.exception(), redis.TimeoutError)


async def test_a_cancelled_receive_ends_even_when_redis_py_swallowed_the_cancel(monkeypatch):
    pops = []

    async def swallowing(self, index, channel, timeout):
        pops.append(channel)
        if len(pops) > 1:
            await asyncio.Event().wait()  # BZPOPMIN again: nothing more comes, ever
        # The consumer closes while BZPOPMIN is being sent; the send completes in the same turn
        # of the loop, and Python 3.11's wait_for returns its result instead of the cancel.
        asyncio.current_task().cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass
        return None  # BZPOPMIN's timeout: no message

    monkeypatch.setattr(channels_redis.core.RedisChannelLayer, "_brpop_with_clean", swallowing)
    consumers = layer()
    task = asyncio.create_task(consumers.receive(await consumers.new_channel()))
    done, _ = await asyncio.wait({task}, timeout=30)
    assert task in done and task.cancelled()
    assert len(pops) == 1


async def test_sends_beyond_the_pool_wait_for_a_connection_instead_of_failing():
    # More sends at once than the pool has connections, as a storm's handshakes fencing their
    # previous sockets make them: redis-py's own pool raised MaxConnectionsError past its size.
    with own_redis() as (_, url):
        sender = RedisChannelLayer(hosts=[{"address": url, "max_connections": 2}])
        receiver = RedisChannelLayer(hosts=[url])
        channels = [await receiver.new_channel() for _ in range(40)]
        sends = (sender.send(name, {"type": "x", "n": n}) for n, name in enumerate(channels))
        await asyncio.gather(*sends)
        received = [await receiver.receive(name) for name in channels]
        await sender.flush()
        await receiver.flush()
    assert [message["n"] for message in received] == list(range(40))
