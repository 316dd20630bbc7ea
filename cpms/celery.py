"""The Celery app. Tasks use `cpms.tenancy.TenantTask`, so each runs in its tenant's scope."""

import os

from celery import Celery
from celery.signals import task_failure, task_postrun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpms.settings")

app = Celery("cpms", task_cls="cpms.tenancy.doors:TenantTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def calm_the_worker(**_) -> None:
    # A worker builds big plans and documents: its start-up objects stay out of every walk
    # (cpms.collector). Again in each pool child, for what it loaded after the fork.
    from cpms.collector import calm_the_garbage_collector

    calm_the_garbage_collector()


@task_postrun.connect
def return_connections(task=None, **_) -> None:
    # With connections reused (CELERY_DB_REUSE_MAX), Celery no longer closes them after a
    # task: Django's end-of-request rule does, so the connection goes back to the pool (and a
    # broken one is dropped) instead of being held into the next task. Not after an eager
    # task: it ran inside its caller's work, perhaps its transaction, as Celery's fix-up knows.
    if task is None or getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@task_failure.connect
def count_failure(sender=None, **_) -> None:
    # Counted where Prometheus reads it from every node (cpms.metrics); a failure only.
    from cpms.metrics import count_task_failure

    count_task_failure(getattr(sender, "name", "unknown"))
