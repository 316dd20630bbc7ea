"""Where a charger socket's database work runs.

Channels runs every `database_sync_to_async` call of a process on one thread, so with many
chargers each message waits behind every other charger's queries and commits. With PostgreSQL
the sockets' work runs on a small pool of threads instead: a charger still has one message in
flight at a time (its consumer awaits each), rows two sockets share are locked by the services,
and PostgreSQL flushes the concurrent commits together. SQLite takes one writer at a time, so
there the work stays on Channels' one thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.conf import settings

_P = ParamSpec("_P")
_R = TypeVar("_R")
_pool: ThreadPoolExecutor | None = None


def in_db(function: Callable[_P, _R]) -> Callable[_P, Awaitable[_R]]:
    """`function` as an awaitable that runs on the sockets' database threads."""
    global _pool
    threads = settings.OCPP_DB_THREADS
    if threads <= 1:
        return database_sync_to_async(function)
    if _pool is None:
        _pool = ThreadPoolExecutor(threads, thread_name_prefix="ocpp-db")
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=_pool)
