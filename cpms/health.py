"""Health endpoints for load balancers, orchestrators and monitoring (no login, no tenant data).

`/health/live`: the node answers. The view runs on the node's event loop (daphne's), so a loop
that is stuck or starved fails the probe by its timeout; the answer carries the loop's lag.
`/health/ready`: the node can do its work: the database answers `SELECT 1`, the channel layer's
Redis answers a PING, the Celery broker accepts a connection. Each check is django-health-check's
(4.8, the last release for Python 3.11), answered as JSON with 503 naming the parts that failed,
so a proxy takes the node out of rotation while a dependency is down and keeps it alive.
Neither answer touches a tenant's rows or opens a tenant scope.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import time
from collections.abc import Iterator
from typing import Any

import redis.asyncio
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from kombu import Connection

from cpms import draining

# A probe that waits longer than this for a part counts the part as down.
CHECK_SECONDS = 2.0


@dataclasses.dataclass
class ChannelLayer(HealthCheck):
    """The channel layer's Redis answers a PING (commands and dashboards ride on it)."""

    timeout = datetime.timedelta(seconds=CHECK_SECONDS)

    async def run(self) -> None:
        client = redis.asyncio.Redis.from_url(
            channel_layer_address(),
            socket_connect_timeout=CHECK_SECONDS,
            socket_timeout=CHECK_SECONDS,
        )
        try:
            await client.ping()
        except (redis.RedisError, OSError) as error:
            raise ServiceUnavailable("Redis does not answer") from error
        finally:
            await client.aclose()


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (tasks the chargers' answers queue go there)."""

    timeout = datetime.timedelta(seconds=CHECK_SECONDS)

    def run(self) -> None:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_SECONDS) as broker:
            try:
                broker.ensure_connection(max_retries=1, timeout=CHECK_SECONDS)
            except Exception as error:  # kombu raises the transport's own errors
                raise ServiceUnavailable("the broker refuses connections") from error


# The name each check answers under.
NAMES = {Database: "database", ChannelLayer: "channel_layer", Broker: "broker"}


def channel_layer_address() -> str:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    host = layer["CONFIG"]["hosts"][0]
    return str(host["address"] if isinstance(host, dict) else host)


class Readiness(HealthCheckView):
    """django-health-check's view, answering JSON only and 503 (not its 500) when a part is
    down: load balancers and Kubernetes read 503 as "not now", and 500 as a bug."""

    def get_checks(self) -> Iterator[HealthCheck]:
        yield Database()
        if not settings.EMBEDDED:
            # The embedded defaults' layer and broker live in this process: nothing to reach.
            yield ChannelLayer()
            yield Broker()

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if draining.draining():
            # Being stopped: out of rotation at once, whatever the parts say.
            return JsonResponse(
                {"status": "draining", "failed": ["node"], "checks": {"node": "draining"}},
                status=503,
            )
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            NAMES[type(result.check)]: "ok" if result.error is None else str(result.error)
            for result in results
        }
        failed = sorted(name for name, state in checks.items() if state != "ok")
        return JsonResponse(
            {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks},
            status=503 if failed else 200,
        )


ready = Readiness.as_view()


@never_cache
async def live(request: HttpRequest) -> JsonResponse:
    """The node answers; how late a callback on its event loop ran, for the curious."""
    loop = asyncio.get_running_loop()
    ran = loop.create_future()
    asked = time.perf_counter()
    loop.call_soon(ran.set_result, None)
    await ran
    lag_ms = (time.perf_counter() - asked) * 1000
    return JsonResponse({"status": "ok", "loop_lag_ms": round(lag_ms, 3)})
