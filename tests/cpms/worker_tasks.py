"""A task for tests that run a real Celery worker (`-I tests.cpms.worker_tasks`): it reports
which PostgreSQL server process its database connection is on."""

import celery
import redis
from django.conf import settings
from django.db import connection

from cpms.celery import app


@app.task(base=celery.Task, name="tests.backend_pid")
def backend_pid(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    redis.Redis.from_url(settings.REDIS_URL).rpush(key, pid)
