"""Prometheus metrics of one node (a daphne process, or a Celery worker's figures through Redis).

Every daphne node serves its own `/metrics` on its own port, and Prometheus scrapes each node
(deploy/README.md): prometheus-client's multiprocess mode would add a directory of memory-mapped
files per machine and lose the live gauges' meaning, for processes that already have an address
of their own. The hot paths only add to in-process counters (chargers.ocpp.metrics, the channel
layer's failures); what costs a query or a Redis call (tenants, the database pool, Celery's
queue and failures) is read when Prometheus scrapes, a few queries a scrape.

Celery's task failures happen in worker processes that serve no HTTP: the worker adds each to a
hash in Redis (one HINCRBY per failure, never on success), and every node reports the hash, so
the figure is cluster-wide (query it with `max`, not `sum`). On the embedded defaults the worker
runs in the server's process and counts in memory.

`/metrics` answers only the networks in METRICS_ALLOWED_NETWORKS (default: loopback outside
production, nobody in production) or a request with `Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from cpms import handoff

log = logging.getLogger(__name__)

# Where the workers count their failed tasks, by task name.
TASK_FAILURES_KEY = "cpms:metrics:celery-task-failures"
# kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in lists of their own.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

CHANNEL_LAYER_FAILURES = Counter(
    "cpms_channel_layer_publish_failures",
    "Sends to the channel layer (commands, dashboards, socket handovers) that failed",
    ["kind"],
)

_task_failures: dict[str, int] = {}
_task_failures_lock = threading.Lock()


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def count_task_failure(task_name: str) -> None:
    """A Celery task failed (the worker's task_failure signal)."""
    if settings.EMBEDDED:
        with _task_failures_lock:
            _task_failures[task_name] = _task_failures.get(task_name, 0) + 1
        return
    try:
        _redis().hincrby(TASK_FAILURES_KEY, task_name, 1)
    except redis.RedisError:
        log.warning("could not count the failure of %s", task_name, exc_info=True)


def task_failures() -> dict[str, int]:
    if settings.EMBEDDED:
        with _task_failures_lock:
            return dict(_task_failures)
    counted: dict[bytes, bytes] = _redis().hgetall(TASK_FAILURES_KEY)  # type: ignore[assignment]
    return {name.decode(): int(count) for name, count in counted.items()}


def queue_depth(queue: str) -> int:
    """Tasks waiting in a Celery queue on the Redis broker."""
    client = _redis()
    names = [queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)]
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(name)
        return sum(pipe.execute())


class NodeCollector(Collector):
    """What is read when Prometheus scrapes: each part that cannot answer is left out of the
    scrape (and logged), never failing the rest."""

    def describe(self) -> list[Metric]:
        # Nothing to read at registration (the database may not exist yet): no name checks.
        return []

    def collect(self) -> Iterator[Metric]:
        for part in (self._tenants, self._database_pool, self._celery, self._handoff):
            try:
                yield from part()
            except Exception:
                log.warning("metrics: %s unavailable", part.__name__, exc_info=True)

    def _tenants(self) -> Iterator[Metric]:
        from cpms.models import Tenant

        counts = Tenant.objects.aggregate(
            active=Count("pk", filter=Q(is_active=True)), every=Count("pk")
        )
        family = GaugeMetricFamily(
            "cpms_tenants", "Tenants, by whether they are active", labels=["active"]
        )
        family.add_metric(["true"], counts["active"])
        family.add_metric(["false"], counts["every"] - counts["active"])
        yield family

    def _database_pool(self) -> Iterator[Metric]:
        pool = getattr(connections["default"], "pool", None)
        if pool is None:  # SQLite: no pool, nothing to wait for
            return
        stats = pool.get_stats()
        for name, key, text in (
            ("cpms_db_pool_size", "pool_size", "Connections the pool holds"),
            ("cpms_db_pool_available", "pool_available", "Connections idle in the pool"),
            ("cpms_db_pool_waiting", "requests_waiting", "Requests waiting for a connection now"),
        ):
            yield GaugeMetricFamily(name, text, value=stats.get(key, 0))
        yield CounterMetricFamily(
            "cpms_db_pool_waits",
            "Requests for a connection that had to wait",
            value=stats.get("requests_queued", 0),
        )
        yield CounterMetricFamily(
            "cpms_db_pool_wait_seconds",
            "Time requests waited for a connection",
            value=stats.get("requests_wait_ms", 0) / 1000,
        )
        yield CounterMetricFamily(
            "cpms_db_pool_timeouts",
            "Requests for a connection that timed out",
            value=stats.get("requests_errors", 0),
        )

    def _celery(self) -> Iterator[Metric]:
        failures = CounterMetricFamily(
            "cpms_celery_task_failures",
            "Celery tasks that raised, by task (cluster-wide: every node reports the same)",
            labels=["task"],
        )
        for name, count in sorted(task_failures().items()):
            failures.add_metric([name], count)
        yield failures
        if settings.EMBEDDED:  # kombu's in-memory queue: drained by this process's thread
            return
        from cpms.celery import app

        queue = app.conf.task_default_queue
        depth = GaugeMetricFamily(
            "cpms_celery_queue_depth", "Tasks waiting on the broker, by queue", labels=["queue"]
        )
        depth.add_metric([queue], queue_depth(queue))
        yield depth

    def _handoff(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "cpms_handoff_dropped",
            "Tasks and dashboard pushes this node dropped because Redis did not take them",
            value=handoff.dropped(),
        )


REGISTRY.register(NodeCollector())


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Any, ...]:
    try:
        return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {error}") from None


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(
        address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """This node's metrics in Prometheus' text format; 404 to anyone not allowed (as if there
    were nothing here)."""
    if not allowed(request):
        return HttpResponse(status=404)
    # The protocol layer's metrics register when the OCPP consumer is imported (routing does,
    # at start-up); a node that has not loaded it yet shows the rest.
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
