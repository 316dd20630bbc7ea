"""Celery inside the server process, for the embedded first run (no REDIS_URL).

The broker is kombu's in-memory transport, so the worker must live in the process that queues
the work: one thread runs a real Celery worker (solo pool) and another runs beat, so periodic
jobs fire too. With REDIS_URL set, run `celery -A cpms worker -B` as separate processes instead.
"""

import logging
import threading

from celery.beat import EmbeddedService
from celery.worker import WorkController

from cpms.celery import app

log = logging.getLogger(__name__)
_started = threading.Event()


def start_worker_threads() -> None:
    """Start the worker and beat threads once per process."""
    if _started.is_set():
        return
    _started.set()
    worker = WorkController(
        app=app,
        pool_cls="solo",
        concurrency=1,
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=True,
        loglevel="WARNING",
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    beat = EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler")
    beat.start()
    log.info("embedded Celery worker and beat started (in-memory broker)")
