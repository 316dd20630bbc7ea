"""The node's /metrics: who may read it, and the figures read when Prometheus scrapes (the
protocol layer's counters are tested with real chargers in tests/chargers/ocpp/)."""

import os
import subprocess
import sys

import pytest
from celery import shared_task
from prometheus_client.parser import text_string_to_metric_families

from cpms import metrics
from cpms.celery import app
from cpms.models import Tenant


def samples(answer) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
def test_metrics_answer_the_loopback_by_default_outside_production(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")


def test_metrics_answer_nobody_else(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404


@pytest.mark.django_db
def test_metrics_answer_a_configured_network(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_answer_the_bearer_of_the_token_from_anywhere(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    bearer = {"HTTP_AUTHORIZATION": "Bearer scrape-secret-0123456789"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", **bearer).status_code == 200
    wrong = {"HTTP_AUTHORIZATION": "Bearer scrape-secret-guess"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", **wrong).status_code == 404
    assert client.get("/metrics").status_code == 404


def test_production_leaves_metrics_closed_until_configured():
    # The settings as a production process reads them: a key of its own, DEBUG off.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"METRICS_ALLOWED_NETWORKS", "METRICS_TOKEN", "DEBUG"}
    }
    env |= {
        "SECRET_KEY": "a-production-key-of-its-own-0123456789",
        "DJANGO_SETTINGS_MODULE": "cpms.settings",
    }
    read = (
        "from django.conf import settings; "
        "print(settings.PRODUCTION, settings.METRICS_ALLOWED_NETWORKS, "
        "repr(settings.METRICS_TOKEN))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown == ["True", "[]", "''"]


@pytest.mark.django_db
def test_tenants_are_counted_by_whether_they_are_active(client, tenant_a, tenant_b):
    Tenant.objects.filter(pk=tenant_b.pk).update(is_active=False)
    found = samples(client.get("/metrics"))
    assert found[("cpms_tenants", (("active", "true"),))] == 1
    assert found[("cpms_tenants", (("active", "false"),))] == 1


@shared_task(name="tests.cpms.test_metrics.fails", platform=True)
def fails() -> None:
    raise RuntimeError("a task that fails")


@pytest.mark.django_db
def test_a_failed_celery_task_is_counted_by_name(client, settings):
    if not settings.EMBEDDED:
        metrics._redis().hdel(metrics.TASK_FAILURES_KEY, fails.name)
    key = ("cpms_celery_task_failures_total", (("task", fails.name),))
    before = samples(client.get("/metrics")).get(key, 0)
    assert fails.apply().failed()
    assert samples(client.get("/metrics"))[key] == before + 1


@pytest.mark.django_db
def test_the_queue_depth_is_read_from_the_broker(client, settings):
    if settings.EMBEDDED:
        pytest.skip("the embedded broker's queue lives in this process")
    queue = app.conf.task_default_queue
    client_redis = metrics._redis()
    client_redis.delete(queue)
    try:
        client_redis.rpush(queue, "a", "b", "c")
        found = samples(client.get("/metrics"))
        assert found[("cpms_celery_queue_depth", (("queue", queue),))] == 3
    finally:
        client_redis.delete(queue)


@pytest.mark.django_db
def test_the_database_pool_reports_its_waits(client, settings):
    if not settings.DATABASES["default"]["ENGINE"] == "cpms.postgresql":
        pytest.skip("SQLite has no pool")
    found = samples(client.get("/metrics"))
    assert ("cpms_db_pool_waits_total", ()) in found
    assert ("cpms_db_pool_size", ()) in found


async def test_a_send_the_channel_layer_refuses_is_counted(settings):
    from cpms.channel_layer import RedisChannelLayer

    key = ("send",)
    before = metrics.CHANNEL_LAYER_FAILURES.labels(*key)._value.get()
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"])
    with pytest.raises(Exception):  # noqa: B017 (whatever redis-py raises for a closed port)
        await layer.send("nobody.listens", {"type": "x"})
    assert metrics.CHANNEL_LAYER_FAILURES.labels(*key)._value.get() == before + 1
