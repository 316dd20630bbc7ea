"""Group commit: the database work of many chargers' messages in one transaction.

A message's work (its service, with the socket's message-log rows riding along) was a
transaction of its own: a hop to a database thread, a pooled connection checked out, BEGIN,
the service's statements, the log's INSERT, COMMIT and a hop back. Under load all of that but
the service's statements is the same for every message. Here the messages that arrive while
a group is being written make up the next group: one hop, one connection, one INSERT of all
their log rows and one COMMIT. Each is answered after that commit, so nothing answered is
ever lost. No timer holds a message back: one that finds a writer free is written at once,
alone, so a quiet process answers as fast as before; groups grow only while the writers
(OCPP_GROUP_WRITERS per process) are busy.

Rows a service keeps for later (`rows.insert_rows_later`: a MeterValues' samples) go as one
INSERT per table for the whole group, before its commit; before the work of a charger whose
message is already in the group, they are written, so that each work reads what the ones
before it wrote.

Each message's work runs in its socket's context (its tenant's scope, its event loop for
dashboard pushes), and so do the after-commit callbacks it registers. When one message's work
fails, the group is rolled back and each of its messages is written again alone, as before:
a failure stays its own message's, and nothing of the others is lost or stored twice.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import connection, transaction
from psycopg.pq import TransactionStatus

from chargers.ocpp.dbwork import in_db
from chargers.services.connections import message_log_append
from cpms.tenancy import rows, scoping

log = logging.getLogger(__name__)

# Messages per group at most: bounds how long a group's row locks are held.
GROUP_LIMIT = 64


@dataclass(slots=True)
class _Work:
    function: Callable[[], Any]
    log_rows: list[dict[str, Any]]
    charger_id: int | None
    context: contextvars.Context
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Failed:
    error: BaseException


class _RolledBack(Exception):
    """A service let its transaction be marked for rollback and returned all the same."""


class GroupCommit:
    """The messages of one event loop's sockets waiting to be written, and their writers."""

    def __init__(self) -> None:
        self._waiting: list[_Work] = []
        self._writers = 0

    async def run(
        self,
        function: Callable[[], Any],
        log_rows: list[dict[str, Any]],
        charger_id: int | None = None,
    ) -> Any:
        """Write `log_rows` and run `function` (for `charger_id`'s message) in a transaction,
        with other sockets' work; its result (or exception) once that transaction is committed
        (or rolled back)."""
        loop = asyncio.get_running_loop()
        work = _Work(
            function, log_rows, charger_id, contextvars.copy_context(), loop.create_future()
        )
        self._waiting.append(work)
        if self._writers < settings.OCPP_GROUP_WRITERS:
            self._writers += 1
            # A writer serves every socket of the loop: it starts in an empty context, not in
            # the tenant scope of the socket whose message happened to start it.
            loop.create_task(self._write_while_waiting(), context=contextvars.Context())
        return await work.future

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[:GROUP_LIMIT]
                del self._waiting[:GROUP_LIMIT]
                try:
                    outcomes = await in_db(write_group)(group)
                except Exception as error:  # the hop itself failed: the group is told, and
                    outcomes = [_Failed(error)] * len(group)  # the next one still written
                except BaseException as error:  # the loop is closing: nobody is answered
                    for work in group:
                        if not work.future.done():
                            work.future.set_exception(error)
                    raise
                for work, outcome in zip(group, outcomes, strict=True):
                    if work.future.done():  # its socket stopped waiting; the work is kept
                        continue
                    if isinstance(outcome, _Failed):
                        work.future.set_exception(outcome.error)
                    else:
                        work.future.set_result(outcome)
        finally:
            self._writers -= 1


_groups: WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = WeakKeyDictionary()


def group_commit() -> GroupCommit:
    """The group commit of the running event loop."""
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = GroupCommit()
    return group


def write_group(group: list[_Work]) -> list[Any]:
    """On a database thread: the outcome of each work of `group`, in order (a `_Failed` for
    one that raised)."""
    if len(group) > 1:
        try:
            return _together(group)
        except Exception:
            log.warning("a group of %d failed; writing each alone", len(group), exc_info=True)
    return [_alone(work) for work in group]


def _together(group: list[_Work]) -> list[Any]:
    results = []
    chargers: set[int | None] = set()
    with transaction.atomic(), rows.together():
        logged = [row for work in group for row in work.log_rows]
        if logged:
            # Each row names its socket's tenant (the consumer fills it in from the charger it
            # admitted): the rows of several tenants go as one INSERT.
            with scoping.unscoped():
                message_log_append(logged)
        for work in group:
            if work.charger_id in chargers:  # a second socket of it (a reconnect)
                rows.write_kept()
            chargers.add(work.charger_id)
            results.append(_in_context(work))
            if transaction.get_rollback() or _aborted():
                raise _RolledBack
    return results


def _aborted() -> bool:
    """Whether PostgreSQL has aborted the transaction (a statement failed and the service
    caught it without a savepoint): its COMMIT would roll everything back, silently."""
    raw = connection.connection
    return (
        connection.vendor == "postgresql"
        and raw is not None
        and raw.info.transaction_status == TransactionStatus.INERROR
    )


def _in_context(work: _Work) -> Any:
    """Run the work in its socket's context; the after-commit callbacks it registers will run
    in that context too (Django keeps them as (savepoint ids, callback, robust))."""
    registered = len(connection.run_on_commit)
    result = work.context.run(work.function)
    callbacks: list[Any] = connection.run_on_commit  # Django 5's triples; its stubs say pairs
    for i in range(registered, len(callbacks)):
        savepoints, callback, robust = callbacks[i]
        callbacks[i] = (savepoints, functools.partial(work.context.run, callback), robust)
    return result


def _alone(work: _Work) -> Any:
    return work.context.run(_transaction, work)


def _transaction(work: _Work) -> Any:
    """One message's work in a transaction of its own (the log rows with it); a failure is
    returned, and the frames are logged all the same."""
    try:
        with transaction.atomic():
            if work.log_rows:
                message_log_append(work.log_rows)
            return work.function()
    except Exception as error:
        if work.log_rows:
            try:
                message_log_append(work.log_rows)
            except Exception:
                log.warning("could not keep %d log rows", len(work.log_rows), exc_info=True)
        return _Failed(error)
