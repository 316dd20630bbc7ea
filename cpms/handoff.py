"""Work for Redis that the chargers' answer path hands off rather than waits for.

Publishing a task is a round trip to the broker (Redis in production), and while Redis stalls
kombu blocks the publishing thread for as long as the stall lasts; a cache lookup blocks the
same way. Done by a listener on the thread that answers a charger, one stall held every answer
(the hardening issue's defect 3). So the answer path hands such work to one sender thread per
process, through a bounded queue: `queue_task` for a Celery task, `queue_call` for a listener
whose work asks Redis (a debounce in the cache, say). A stall delays the work, never the
answers; when the queue is full the newest is dropped and counted. Whatever queues here has a
safety net that finds the work again (each domain's beat job). Where nothing can stall (an
eager app, the in-memory broker and cache of the embedded defaults), the work runs at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)

_dropped = 0


class Sender:
    """A bounded queue of work, and the one thread that does it."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[tuple[str, Callable[[], object]]] = queue.Queue(maxsize=size)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, task: Any, kwargs: dict[str, Any], countdown: float = 0) -> None:
        """Queue `task` for the thread; dropped and counted when the queue is full."""
        self.put_call(task.name, partial(task.apply_async, kwargs=kwargs, countdown=countdown))

    def put_call(self, name: str, work: Callable[[], object]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._send, name="handoff", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((name, work))
        except queue.Full:
            count_drop(name)

    def _send(self) -> None:
        while True:
            name, work = self._queue.get()
            try:
                work()
            except Exception:  # Redis or the broker refused: the safety net finds the work
                log.warning("could not do %s", name, exc_info=True)
            finally:
                # A listener's queries leave this thread's connection open: hand it back.
                close_old_connections()


_sender = Sender(settings.HANDOFF_QUEUE_SIZE)


def queue_task(task: Any, /, *, countdown: float = 0, **kwargs: Any) -> None:
    """Queue `task` with `kwargs` (its keyword arguments) for a worker, from a thread that must
    not wait on the broker."""
    if _nothing_stalls(task.app):
        task.apply_async(kwargs=kwargs, countdown=countdown)
    else:
        _sender.put(task, kwargs, countdown)


def queue_call(function: Callable[..., object], /, *args: Any) -> None:
    """Run `function(*args)` on the sender thread: a listener's work that asks Redis (the cache,
    the broker), from a thread that must not wait on it. The function opens the scope it needs
    (the thread has none)."""
    from cpms.celery import app

    if _nothing_stalls(app):
        function(*args)
    else:
        _sender.put_call(function.__qualname__, partial(function, *args))


def _nothing_stalls(app: Any) -> bool:
    return bool(app.conf.task_always_eager) or app.conf.broker_url.startswith("memory://")


def dropped() -> int:
    """How many tasks and dashboard pushes this process dropped because Redis did not take
    them in time."""
    return _dropped


def count_drop(what: str) -> None:
    """Count one task or push dropped because Redis does not take them."""
    global _dropped
    _dropped += 1
    # One line for the first drop and then every hundredth: a long stall drops thousands.
    if _dropped % 100 == 1:
        log.warning("Redis not taking work: dropped %s (%d dropped so far)", what, _dropped)
