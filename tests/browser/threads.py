"""Test data whose services publish events, made away from Playwright's event loop."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def off_the_loop(work: Callable[[], T], timeout: float = 30) -> T:
    """`work()` in a thread of its own, and its result: the events the services publish reach
    the dashboards through async_to_sync, which refuses to run in the thread of Playwright's
    event loop. The thread's database connections are closed when it is done."""

    def run() -> T:
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout)
