"""Run the real server in a child process, as the tests of processes and sockets need; and
small HTTP servers in a thread, for what the system under test calls out to."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(settings_dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def http_server(handler):
    """A `ThreadingHTTPServer` with `handler` (a BaseHTTPRequestHandler class) on a free port
    of 127.0.0.1, in a thread; yields its address (http://127.0.0.1:PORT) and stops it
    afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def child_env(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CI", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def setting_in_a_process(expression: str, **env) -> str:
    """`settings.<expression>` as a process started with `env` reads it (the settings read
    the environment once, at start), printed."""
    completed = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{expression})"],
        cwd=ROOT,
        env=child_env(DJANGO_SETTINGS_MODULE="cpms.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


def manage(*args, env, check=True, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def running_server(env: dict, *extra_args: str):
    """`manage.py serve` on a free port; yields the port, stops the server afterwards."""
    with server_process(env, *extra_args) as (_, port):
        yield port


@contextlib.contextmanager
def server_process(env: dict, *extra_args: str, port: int | None = None):
    """`manage.py serve` on `port` (a free one by default); yields the process (for tests that
    signal it) and the port, and stops the process group afterwards."""
    port = port or free_port()
    # A file, not a pipe: nobody reads the server's output while it runs, and a full pipe
    # would stall the server. KEEP_SERVER_LOG=1 keeps the file for a look afterwards.
    log_path = ROOT / "var" / f"test-server-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), *extra_args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            wait_for_port(port, process=process)
            yield process, port
        finally:
            stop_process_group(process)
    if not os.environ.get("KEEP_SERVER_LOG"):
        log_path.unlink(missing_ok=True)


def stop_process_group(process: subprocess.Popen, grace: float = 15.0) -> None:
    """End a process started with `start_new_session=True` and every process it started:
    SIGTERM to the whole group, SIGKILL to whatever is left of it after `grace` seconds. Safe
    to call when the leader has exited already (its children may not have)."""

    def signal_group(sig: int) -> bool:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return False
        return True

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, so that only live members keep the group
        if not signal_group(0):
            return
        time.sleep(0.1)
    signal_group(signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def own_redis(port=None):
    """A redis-server of the test's own (nothing else may be stopped with it): the process
    and its URL."""
    import pytest

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing")
        pytest.skip("redis-server is not installed")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process=process)
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        with contextlib.suppress(ProcessLookupError):  # stopped by the test already
            os.kill(process.pid, signal.SIGCONT)
        stop_process_group(process)


@contextlib.contextmanager
def stalled(process):
    os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def postgres_reachable() -> bool:
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def scratch_postgres_database():
    """A fresh PostgreSQL database for a child process; dropped afterwards."""
    name = f"cpms_scratch_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_production_parts(pytest) -> None:
    """Skip locally when PostgreSQL is missing; under CI=true that is a failure instead."""
    if not postgres_reachable():
        if settings.CI:
            pytest.fail("CI=true but PostgreSQL is unreachable")
        pytest.skip("PostgreSQL is not running here")


def scratch_databases(prefix: str) -> set[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{prefix}%"])
        return {name for (name,) in rows}


def drop_databases(names: set[str]) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_module(
    module: str, *args: str, env: dict, scratch_prefix: str, limit: float = 900
) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `python -m module args` in a process group of its own, ended whatever happens;
    `limit` only bounds a run that hangs, far beyond what a slow machine needs. Returns the
    completed process and the scratch databases (named `scratch_prefix`...) it left behind,
    which are dropped by then."""
    before = scratch_databases(scratch_prefix)
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"python -m {module} ran longer than {limit} s") from None
    finally:
        stop_process_group(process)
        left_behind = scratch_databases(scratch_prefix) - before
        drop_databases(left_behind)
    completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return completed, left_behind


@contextlib.contextmanager
def eager_tasks():
    """Celery tasks run at once, in the caller's thread, for the duration of the block."""
    from cpms.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
