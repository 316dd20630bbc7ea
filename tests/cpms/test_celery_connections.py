"""A prefork Celery worker keeps its PostgreSQL connection from task to task (Celery's Django
fix-up closed the pool around every task, and each task forked new server processes), and still
gets over one that broke in between."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from cpms.celery import app
from tests.aio import PATIENCE
from tests.helpers import ROOT, database_url

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="a worker on PostgreSQL and Redis, as production runs it",
)


@pytest.mark.django_db
def test_a_prefork_worker_runs_its_tasks_on_one_database_connection(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
    }
    # A queue of its own: nothing another test left on the broker reaches this worker.
    queue = f"connections-{uuid.uuid4()}"
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed in the finally)
    worker = subprocess.Popen(  # noqa: S603 (this project's worker)
        [sys.executable, "-m", "celery", "-A", "cpms", "worker", "--pool", "prefork"]
        + ["--concurrency", "1", "-Q", queue, "-I", "tests.cpms.worker_tasks"]
        + ["--loglevel", "WARNING"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # BLPOP waits up to PATIENCE on the server: the socket waits longer.
    answers = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=PATIENCE + 10)
    key = f"{queue}-pids"
    try:
        pids = []
        for _ in range(4):
            app.send_task("tests.backend_pid", args=[key], queue=queue)
            answer = answers.blpop([key], timeout=PATIENCE)
            assert answer is not None, (tmp_path / "worker.log").read_text()
            pids.append(int(answer[1]))
        assert len(set(pids)) == 1, pids
        # Its server process ended between tasks (a restart, an administrator): the next task
        # still runs, on a new connection, as the pool drops the broken one.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
        app.send_task("tests.backend_pid", args=[key], queue=queue)
        answer = answers.blpop([key], timeout=PATIENCE)
        assert answer is not None, (tmp_path / "worker.log").read_text()
        assert int(answer[1]) != pids[0]
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        log.close()
        answers.delete(key)
