"""The Celery app. Tasks use `cpms.tenancy.TenantTask`, so each runs in its tenant's scope."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpms.settings")

app = Celery("cpms", task_cls="cpms.tenancy.doors:TenantTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
