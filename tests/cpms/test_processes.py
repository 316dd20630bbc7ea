"""The real processes: deploy checks, both settings modes, the embedded worker."""

import subprocess
import textwrap
import urllib.request

import pytest

from tests.helpers import (
    ROOT,
    child_env,
    manage,
    require_production_parts,
    running_server,
    scratch_postgres_database,
)

# The production environment as deploy/README.md documents it, nothing more: HTTPS, secure
# cookies and HSTS are the defaults once DEBUG is off and the key is the deployment's own.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x9!vQ2#kL7@pR4$wZ8^mN3&bT6*yH1(cF5)dJ0-gS_eU+aW=iO",
    "ALLOWED_HOSTS": "cpms.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://cpms.example.com",
    "TRUSTED_PROXIES": "10.0.0.5",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PNC_TEST_PKI": "false",
}


def deploy_check(**env) -> subprocess.CompletedProcess:
    return manage("check", "--deploy", "--fail-level", "WARNING", env=child_env(**env), check=False)


def test_the_deploy_check_passes_with_the_documented_production_environment():
    result = deploy_check(**PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_is_https_only_without_extra_flags():
    shown = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)",
        env=child_env(**PRODUCTION_ENV),
    )
    assert shown.stdout.split() == ["True", "True", "True", "31536000"]


def test_the_deploy_check_asks_for_the_trusted_proxy_behind_which_https_ends():
    result = deploy_check(**{**PRODUCTION_ENV, "TRUSTED_PROXIES": ""})
    assert result.returncode != 0
    assert "cpms.W001" in result.stdout + result.stderr


def test_the_deploy_check_flags_the_embedded_defaults():
    assert deploy_check().returncode != 0


def fetch_login_page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as page:
        assert page.status == 200
        return page.read().decode()


def test_the_embedded_defaults_migrate_and_serve_the_login_page(tmp_path):
    env = child_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage("migrate", "--noinput", env=env)
    with running_server(env) as port:
        assert "Log in" in fetch_login_page(port)


def test_postgresql_and_redis_migrate_and_serve_the_login_page():
    require_production_parts(pytest)
    with scratch_postgres_database() as database_url:
        env = child_env(DATABASE_URL=database_url, REDIS_URL="redis://127.0.0.1:6379/3")
        manage("migrate", "--noinput", env=env)
        with running_server(env) as port:
            assert "Log in" in fetch_login_page(port)


def test_the_embedded_worker_runs_periodic_jobs_inside_the_process(tmp_path):
    """Beat in a thread schedules the job; the worker thread runs it on the in-memory broker."""
    env = child_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    # The job's table is all it needs (the whole schema is migrated by the test above).
    manage("migrate", "sessions", "--noinput", env=env)
    script = textwrap.dedent("""
        import time, django
        from datetime import timedelta
        django.setup()
        from django.conf import settings
        from django.contrib.sessions.models import Session
        from django.utils import timezone
        from cpms.celery import app
        from cpms.embedded import start_worker_threads
        assert settings.EMBEDDED and settings.CELERY_BROKER_URL == "memory://"
        Session.objects.create(session_key="x" * 32, session_data="",
                               expire_date=timezone.now() - timedelta(days=1))
        app.conf.beat_schedule = {"sweep": {"task": "cpms.tasks.clear_expired_sessions",
                                            "schedule": 0.5}}
        start_worker_threads()
        deadline = time.monotonic() + 30
        while Session.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        print("cleared" if not Session.objects.exists() else "still there")
    """)
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "cpms.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "cleared" in result.stdout, result.stdout + result.stderr
