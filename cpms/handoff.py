"""Celery tasks queued from the chargers' answer path, without waiting for the broker.

Publishing a task is a round trip to the broker (Redis in production), and while Redis stalls
kombu blocks the publishing thread for as long as the stall lasts. Queued by a listener on the
thread that answers a charger, one stall held every answer (the hardening issue's defect 3). So
the answer path hands its tasks to one sender thread per process, through a bounded queue: a
stall delays the tasks, never the answers; when the queue is full the newest are dropped and
counted. Whatever queues here has a safety net that finds the work again (alerts' periodic
evaluation, the requeue of due webhook deliveries). An eager app or the in-memory broker has no
network to wait on, so there the task is queued at once, as before.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

_dropped = 0


class Sender:
    """A bounded queue of tasks, and the one thread that hands them to the broker."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[tuple[Any, dict[str, Any], float]] = queue.Queue(maxsize=size)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, task: Any, kwargs: dict[str, Any], countdown: float = 0) -> None:
        """Queue `task` for the thread; dropped and counted when the queue is full."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._send, name="handoff", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((task, kwargs, countdown))
        except queue.Full:
            count_drop(task.name)

    def _send(self) -> None:
        while True:
            task, kwargs, countdown = self._queue.get()
            try:
                task.apply_async(kwargs=kwargs, countdown=countdown)
            except Exception:  # the broker refused: the task's safety net finds the work again
                log.warning("could not queue %s", task.name, exc_info=True)


_sender = Sender(settings.HANDOFF_QUEUE_SIZE)


def queue_task(task: Any, /, *, countdown: float = 0, **kwargs: Any) -> None:
    """Queue `task` with `kwargs` (its keyword arguments) for a worker, from a thread that must
    not wait on the broker."""
    if task.app.conf.task_always_eager or task.app.conf.broker_url.startswith("memory://"):
        task.apply_async(kwargs=kwargs, countdown=countdown)
    else:
        _sender.put(task, kwargs, countdown)


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
