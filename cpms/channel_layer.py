"""The Redis channel layer, with a receive that outlives a Redis stall or restart.

channels_redis raises a Redis error out of `receive()`, and Channels' consumer loop ends the
consumer with it: a 15 s stall or a Redis restart closed every charger's socket with 1011 (the
hardening issue's defect 3). Redis carries pushes and commands only, so a consumer waits for it
to come back instead; what was in flight for the consumer's channel is lost, and a command sent
meanwhile times out as it would for a charger that did not answer.

It also ends a cancelled receive that redis-py let go on: Python 3.11's `asyncio.wait_for`
(redis-py's send, once a socket timeout is set) swallows a cancellation that arrives as the send
completes, and channels_redis then blocks in BZPOPMIN again and again, keeping a closed socket's
consumer alive until something cancels it a second time.

Its connection pools wait for a free connection rather than fail. redis-py 8's asyncio pool
holds at most 100 connections and raises `MaxConnectionsError` beyond them, and one server
process can have more sends in flight than that: every handshake of a storm (up to
OCPP_MAX_HANDSHAKES_IN_PROGRESS at once) may fence a previous socket, beside the receive loop,
its cleaners and the dashboards' pushes. A fleet reconnecting after a node died does exactly
that, and the sockets whose fence failed were closed with 1011 (the connection storm issue).
Each command is a Redis round trip of well under a millisecond, so a send that waits for a
connection waits briefly; only a stalled Redis makes it wait out `POOL_WAIT`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis
from channels_redis.core import RedisChannelLayer as _RedisChannelLayer  # type: ignore[import-untyped]
from redis import asyncio as aioredis

from cpms.metrics import CHANNEL_LAYER_FAILURES

log = logging.getLogger(__name__)

# From the first retry to the longest wait between two, in seconds.
RETRY_FIRST, RETRY_MOST = 0.2, 5.0
# Connections per process and Redis host, and how long a command waits for one of them (then
# it fails as a stalled Redis would fail it: the socket timeout is 15 s).
POOL_CONNECTIONS = 50
POOL_WAIT = 15.0


def cancel_requested() -> bool:
    """Whether the running task was asked to stop, even if what it awaited swallowed the
    cancellation (see above): a loop that awaits Redis checks this before its next turn."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class RedisChannelLayer(_RedisChannelLayer):
    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        """A pool that makes a command wait for a connection when all are busy (see above).
        `max_connections` in a host's settings sizes it; a Sentinel host keeps channels_redis's
        own pool."""
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        host.setdefault("max_connections", POOL_CONNECTIONS)
        return aioredis.BlockingConnectionPool.from_url(
            host.pop("address"), timeout=POOL_WAIT, **host
        )

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await super().send(channel, message)
        except Exception:
            CHANNEL_LAYER_FAILURES.labels("send").inc()
            raise

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await super().group_send(group, message)
        except Exception:
            CHANNEL_LAYER_FAILURES.labels("group_send").inc()
            raise

    # How long one BZPOPMIN blocks (channels_redis: 5 s), and so how long a swallowed cancel
    # (below) keeps a closed consumer: one process's idle reader asks Redis once a second.
    brpop_timeout = 1

    async def receive(self, channel: str) -> dict[str, Any]:
        wait = RETRY_FIRST
        while True:
            try:
                return await super().receive(channel)
            except (redis.RedisError, OSError) as error:
                # A cancelled consumer ends, even when a timeout inside the read turned the
                # cancellation into a TimeoutError (Python 3.11's timeouts can): retrying then
                # would keep a closing event loop waiting forever.
                if cancel_requested():
                    raise
                log.warning("channel layer: %s; receiving again in %.1f s", error, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MOST)

    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> Any:  # noqa: ASYNC109 (channels_redis names it)
        member = await super()._brpop_with_clean(index, channel, timeout)
        if cancel_requested():
            # A cancellation redis-py swallowed (see above). A message popped meanwhile stays in
            # the backup queue, from which the next receive on the channel takes it back.
            raise asyncio.CancelledError
        return member
