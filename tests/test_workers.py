"""The suite in parallel (`make test` runs pytest-xdist): each worker on Redis and PostgreSQL
databases of its own, so that no worker sees another's groups, caches, queues or rows."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

pytestmark = pytest.mark.skipif(
    not WORKER or not settings.REDIS_URL,
    reason="about the parallel suite on Redis (make test: pytest-xdist and CI=true)",
)


def worker_index() -> int:
    return int(WORKER.removeprefix("gw"))


def test_each_worker_has_a_redis_database_of_its_own():
    base = int(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[1] or 0)
    from cpms.celery import app

    own = settings.REDIS_URL
    assert own.endswith(f"/{base + worker_index()}")
    assert app.conf.broker_url == own
    assert cache._cache._servers == [own]
    assert [host["address"] for host in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]] == [
        own
    ]


@pytest.mark.django_db
def test_each_worker_has_a_test_database_of_its_own():
    assert connection.settings_dict["NAME"].endswith(f"_{WORKER}")


def test_a_worker_reuses_the_database_the_controller_cloned_for_it(django_db_keepdb):
    # Migrating in every worker at once is what the clone spares (tests/parallel.py).
    assert django_db_keepdb == (connection.vendor == "postgresql")
