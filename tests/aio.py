"""Helpers of async tests: rows read in a tenant's scope from the event loop, and waiting for
what is bound to happen (poll, never sleep a fixed time).

A deadline here only bounds a test that would otherwise hang, far beyond what a slow machine
needs; the poll returns as soon as the condition holds. It runs in the test's event loop and
holds no thread while it waits, so a server serving the test's sockets in the same process
(and its database work) goes on meanwhile."""

import asyncio

from asgiref.sync import sync_to_async

from cpms.tenancy import scoping

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
            raise AssertionError(f"{what or 'the condition'}: not within {seconds:g} s")
        await asyncio.sleep(every)
    return outcome
