"""The suite in parallel (pytest-xdist, `make test`): each worker on databases of its own.

PostgreSQL: pytest-django gives worker gwN the test database test_<name>_gwN. Migrating it in
every worker at once took each worker over two minutes on a busy 2-core machine (rendering the
migrations' model states is CPU work), longer than a test may take; so the controller migrates
test_<name> once and clones it for each worker (CREATE DATABASE ... TEMPLATE, as Django's own
parallel runner does), the workers reuse their clone, and the controller drops them all at the
end. Redis: worker gwN takes database <REDIS_URL's> + N (`use_the_workers_own_redis_database`).
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from pytest_django.plugin import blocking_manager_key

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def workers(config: pytest.Config) -> int:
    """How many workers this process (the controller) starts; 0 outside xdist and in a worker."""
    if hasattr(config, "workerinput"):
        return 0
    return int(getattr(config.option, "numprocesses", 0) or 0)


def clones_databases(config: pytest.Config) -> bool:
    return (
        connection.vendor == "postgresql"
        and workers(config) > 0
        and not config.getoption("reuse_db")
        and not config.getoption("collectonly")
    )


def use_the_workers_own_redis_database() -> None:
    """Settings were read before any conftest (pytest-django sets Django up first), so what
    they derived from REDIS_URL is rewritten here, before a test opens a cache, a channel
    layer or the broker."""
    if not settings.REDIS_URL or not WORKER.startswith("gw"):
        return
    url = urlsplit(settings.REDIS_URL)
    db = int(url.path.strip("/") or 0) + int(WORKER.removeprefix("gw"))
    own = urlunsplit(url._replace(path=f"/{db}"))
    settings.REDIS_URL = own
    settings.CELERY_BROKER_URL = own
    settings.CACHES["default"]["LOCATION"] = own
    for host in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]:
        host["address"] = own


def pytest_configure(config: pytest.Config) -> None:
    use_the_workers_own_redis_database()


@pytest.fixture(scope="session")
def django_db_keepdb(request: pytest.FixtureRequest) -> bool:
    """pytest-django's: keep (and reuse) the test database with --reuse-db; and in a worker on
    PostgreSQL, whose database is the controller's clone, migrated already and dropped by the
    controller."""
    reuse: bool = request.config.getvalue("reuse_db")
    return reuse or (bool(WORKER) and connection.vendor == "postgresql")


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not clones_databases(config):
        return
    with config.stash[blocking_manager_key].unblock():
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        for index in range(workers(config)):
            connection.creation.clone_test_db(suffix=f"gw{index}", verbosity=0, autoclobber=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not clones_databases(config):
        return
    template = connection.settings_dict["NAME"]
    names = [template, *(f"{template}_gw{index}" for index in range(workers(config)))]
    with config.stash[blocking_manager_key].unblock():
        connection.close()
        connection.close_pool()
        # FORCE: a server a worker started may not have closed its sessions yet.
        with connection._nodb_cursor() as cursor:
            for name in names:
                quoted = connection.ops.quote_name(name)
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
