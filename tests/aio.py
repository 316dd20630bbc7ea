"""Helpers of async tests: rows read in a tenant's scope from the event loop, and waiting for
what is bound to happen (poll, never sleep a fixed time).

A deadline here only bounds a test that would otherwise hang, far beyond what a slow machine
needs; the poll returns as soon as the condition holds. It runs in the test's event loop and
holds no thread while it waits, so a server serving the test's sockets in the same process
(and its database work) goes on meanwhile."""

import asyncio
import contextlib
import faulthandler
import sys

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection

from cpms.tenancy import scoping
from tests.helpers import database_url

PATIENCE = 30.0


def in_a(tenant, query):
    """Awaitable: `query()` run on the database thread in `tenant`'s scope."""

    @sync_to_async
    def run():
        with scoping.scope(tenant):
            return query()

    return run()


async def eventually(check, seconds: float = PATIENCE, every: float = 0.05, what: str = ""):
    """The first truthy result of the async `check()`, asked every `every` seconds; an
    AssertionError naming `what` when none has come after `seconds`."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + seconds
    while not (outcome := await check()):
        if loop.time() > give_up_at:
            await _report_what_waits(loop)
            raise AssertionError(f"{what or 'the condition'}: not within {seconds:g} s")
        await asyncio.sleep(every)
    return outcome


async def _report_what_waits(loop) -> None:
    """Where every task of the loop, every thread and every busy database session stands (to
    stderr, which pytest shows with the failure): a condition that never came is most often
    work stuck behind something."""
    print("--- tasks of the test's loop ---", file=sys.stderr)
    for task in asyncio.all_tasks(loop):
        task.print_stack(limit=12, file=sys.stderr)
    print("--- threads ---", file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    if connection.vendor == "postgresql":
        # On a connection of its own: the test's may be the one stuck.
        with contextlib.suppress(Exception):
            busy = await asyncio.wait_for(asyncio.to_thread(_busy_sessions), 10)
            print("--- database sessions not idle ---", *busy, sep="\n", file=sys.stderr)


def _busy_sessions() -> list[str]:
    url = database_url(connection.settings_dict)
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as own:
        rows = own.execute(
            "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid),"
            " now() - xact_start, left(query, 160) FROM pg_stat_activity"
            " WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"
        ).fetchall()
    return [" | ".join(map(str, row)) for row in rows]
