"""Fixtures of the OCPP tests, for every test package (registered in tests/conftest.py): the
server in a child process, the server that carries commands (`command_server`), chargers with a
password."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, connections

from chargers.models import Charger
from chargers.services.chargers import charger_set_password
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import PASSWORD
from tests.chargers.ocpp.in_process import InProcessServer
from tests.helpers import child_env, database_url, running_server

IN_PROCESS_SERVER = pytest.StashKey[InProcessServer]()
SERVER_APPLICATION_NAME = "cpms-test-ocpp-server"


@pytest.fixture(scope="session")
def ocpp_server_process(django_db_setup, django_db_blocker):
    """daphne (`manage.py serve`) in its own process, on the test database and, when the
    tests have one, the same Redis channel layer: commands cross processes for real."""
    env = child_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL or None,
        LOG_LEVEL="WARNING",
        # libpq names the server's database sessions, so a test can tell them from its own.
        PGAPPNAME=SERVER_APPLICATION_NAME,
        # The server outlives every test, and its refusal counts would carry from one test to
        # the next; the throttle is tested on a server of the test's own (test_throttle.py).
        OCPP_HANDSHAKE_THROTTLE="false",
    )
    with running_server(env, "--no-worker") as port:
        yield f"ws://127.0.0.1:{port}"
    # Async tests reach the database from asgiref's worker thread; its connection must be
    # closed too, or the test database cannot be dropped at the end.
    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())


@pytest.fixture
def ocpp_server(ocpp_server_process, transactional_db):
    """The server's address for one test; afterwards, the server is let finish what the
    test's sockets left it (a socket accepted and closed at once is still being opened
    and closed in the database) before the test database is emptied under it: emptying
    tables while the server writes them deadlocks on PostgreSQL."""
    yield ocpp_server_process
    wait_until_the_database_is_idle()


def wait_until_the_database_is_idle(quiet=0.1, limit=15.0) -> None:
    """Until no other session on the test database is in a statement or a transaction, nor
    has been for `quiet` seconds. SQLite has no such view; its writers queue on the file."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + limit
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE state <> 'idle'),"
                " coalesce(extract(epoch FROM clock_timestamp() - max(state_change)), 1e9)"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            busy, idle_for = cursor.fetchone()
            if not busy and idle_for >= quiet:
                return
            time.sleep(0.02)


@pytest.fixture
def make_charger(transactional_db):
    def make(tenant, identity="CP-1", password=PASSWORD, **fields):
        with scoping.scope(tenant):
            charger = Charger.objects.create(identity=identity, **fields)
            charger_set_password(charger=charger, password=password)
        charger.refresh_from_db()
        return charger

    yield make
    # The server finishes a closed socket's bookkeeping after the client has gone; let it,
    # before the test database is emptied under it.
    deadline = time.monotonic() + 10
    with scoping.unscoped():
        sockets = Charger.objects.filter(is_online=True).exclude(channel_name="")
        while sockets.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def command_server(request):
    """The server through which commands reach a test's chargers: the address to connect them
    to. With REDIS_URL (CI=true), daphne in its own process (`ocpp_server`): commands cross
    processes over Redis. On the embedded defaults, the same application served in this
    process, in the test's event loop (`ocpp_server_in_process`): the in-memory layer carries
    commands within one process, from the test and the views it calls to the consumer."""
    if settings.REDIS_URL:
        return request.getfixturevalue("ocpp_server")
    return request.getfixturevalue("ocpp_server_in_process")


@pytest.fixture
async def ocpp_server_in_process(request, transactional_db):
    """`cpms.asgi.application` served in this process (tests/chargers/ocpp/in_process.py);
    stopped when the test's body ends (see `pytest_pyfunc_call` below)."""
    from cpms.asgi import application

    server = InProcessServer(application)
    request.node.stash[IN_PROCESS_SERVER] = server
    url = await server.start()
    yield url
    await server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Stop the in-process server as soon as the test's body has ended, on the test's loop:
    its sockets' last database work (a closed socket's bookkeeping) runs in that loop, which
    turns no more while the fixtures of the test are torn down, and fixtures set up after the
    server (a charger factory waiting for its sockets to close) are torn down before it."""
    try:
        return (yield)
    finally:
        server = pyfuncitem.stash.get(IN_PROCESS_SERVER, None)
        if server is not None and server.server is not None:
            server.loop.run_until_complete(server.stop())
