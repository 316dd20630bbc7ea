"""Django's PostgreSQL backend, with a cheaper test of a pooled connection before it is used.

After a PostgreSQL restart every idle connection in the pool is dead, and each answered a
charger with InternalError until it had failed once. psycopg's pool can try each connection
with an empty query before handing it out (Django's CONN_HEALTH_CHECKS), but that is a round
trip per checkout, and the sockets' database work checks out a connection per message: in a
boot storm it was a tenth of the server's busy time.

A server that ends a session (a restart, an administrator) says so on the connection before
closing it, so an idle connection with something to read has been ended, or at least has news.
Only such a connection is tried, and one that fails is dropped for the next; a quiet one is
handed out as it is.

It also lets psycopg keep the parsed placeholders of statements with many parameters (below),
reads timestamps with psycopg's compiled loader (`UtcTimestamptzLoader`), and gives the fixed
statements of the hot path a cursor that binds their parameters on the server
(`binding_cursor`).
"""

from __future__ import annotations

import datetime
import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import _queries
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg_pool import ConnectionPool

# psycopg parses a statement's placeholders again at every execution unless it has at most 50
# parameters (and 4,096 bytes): a MeterValues' nine samples go as one INSERT of 126
# (cpms/tenancy/rows.py), and parsing it was a fifth of the benchmark's server time on the
# event loop's and database threads (py-spy, MeterValues). Those statements are few (rows.py
# writes at most 64 rows per statement, in powers of two: 3.7 KB for 64 samples), so they may
# share psycopg's cache (128 statements, least recently used out) with the rest; the length
# bound still keeps big ones out.
# tests/cpms/test_postgresql.py fails if a psycopg upgrade moves this.
_queries.MAX_CACHED_STATEMENT_PARAMS = 2000


# psycopg's own timestamptz loader: compiled (psycopg[binary]) where installed.
_Timestamptz: Any = psycopg.adapters.get_loader(
    psycopg.adapters.types["timestamptz"].oid, Format.TEXT
)


class UtcTimestamptzLoader(Loader):
    """psycopg's timestamptz loader, as Django's connection takes it for its own.

    Django registers a loader of its own to give timestamps its connection's time zone: a
    Python subclass of psycopg's pure Python loader, which parsed every timestamp of every row
    in Python (a twentieth of the server's time in a session benchmark). psycopg's loader
    already gives them the connection's time zone, and Django sets the connection to UTC
    (settings.TIME_ZONE) when it opens it. `timezone` is what Django compares with its own to
    decide whether a cursor needs its loader instead; psycopg's compiled loader cannot be
    subclassed, so this one hands each value to an instance of it."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context: Any = None):
        super().__init__(oid, context)
        self.load = _Timestamptz(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> Any:  # replaced on each instance
        raise NotImplementedError


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """The SQL Django's debug cursor records (tests' CaptureQueriesContext, DEBUG logs).
        Django reads it from the cursor, but psycopg leaves none there for a statement it ran
        prepared (`binding_cursor`'s, from their sixth run): composed here for those."""
        if isinstance(cursor, psycopg.ClientCursor):
            return super().last_executed_query(cursor, sql, params)
        try:
            return self.compose_sql(sql, params)
        except psycopg.errors.DataError:  # a parameter it cannot quote: the statement alone
            return sql


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if self.timezone == datetime.UTC:
            params["context"].register_loader("timestamptz", UtcTimestamptzLoader)
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        connection = super().get_new_connection(conn_params)
        pool = self.pool  # type: ignore[attr-defined]  # Django 5.1's, not in its stubs yet
        while pool is not None and not _usable(connection):
            pool.putconn(connection)  # broken now: the pool discards it and opens another
            connection = pool.getconn()
        return connection

    def binding_cursor(self) -> Any:
        """A cursor that sends the parameters apart from the statement (server-side binding).

        Django's cursors quote every parameter into the statement's text, in Python: for a
        MeterValues' samples that was a tenth of the server's time. Bound on the server, psycopg
        adapts them in C. Only for statements whose parameters PostgreSQL can type from where
        they stand (a column's value, a comparison with a column): `cpms.tenancy.rows` uses it.
        Nothing is prepared unless the OPTIONS set psycopg's prepare_threshold (PgBouncer in
        transaction mode cannot keep prepared statements).
        """
        self.ensure_connection()
        # Both Django's, as its own cursor() uses them; its stubs know neither.
        cursor = base.ServerBindingCursor(self.connection)  # type: ignore[attr-defined]
        return self._prepare_cursor(cursor)  # type: ignore[attr-defined]


def _usable(connection: psycopg.Connection[Any]) -> bool:
    if not _has_news(connection):
        return True
    try:
        ConnectionPool.check_connection(connection)
    except psycopg.Error:
        return False
    return True


def _has_news(connection: psycopg.Connection[Any]) -> bool:
    # poll, not select: a server with thousands of sockets has descriptors past select's 1024.
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
