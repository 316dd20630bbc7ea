"""The two servers under test, each started in processes of its own and stopped afterwards.

`project` is the real thing: `manage.py serve` (daphne) on a scratch database that is created,
migrated and seeded for the run and dropped afterwards (PostgreSQL when one is given or answers
locally, else a temporary SQLite file), with Redis and a separate Celery worker when a Redis URL
is given, else the embedded in-process parts. `baseline` is `bench.baseline`: the `ocpp` library
on `websockets`, persisting nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import procstat
from bench.seed import identity

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
PREFIX = "BENCH-"
# Charger keys are long machine-made secrets (16-40 characters), like this one.
PASSWORD = "bench-charger-key-0123456789"  # noqa: S105
ID_TAGS = [f"BENCH-TAG-{n:03d}" for n in range(1, 11)]


STATS_FLUSH_S = 11
SCRATCH_PREFIX = "cpms_bench_"
# Tries to copy a template database someone is still leaving, half a second apart.
TEMPLATE_ATTEMPTS = 40
# Tries to copy a template database someone is still leaving, half a second apart.
TEMPLATE_ATTEMPTS = 40


class BenchError(RuntimeError):
    """The benchmark cannot go on: a server did not start, a step failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server exited with {process.returncode}; see {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise BenchError(f"nothing listens on port {port} after {timeout:g} s; see {log}")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def run_json(
    module: str, *args: str, env: dict | None, what: str, stdin: str | None = None
) -> dict:
    """Run one of the benchmark's modules in a process of its own: the JSON object it prints
    last."""
    completed = subprocess.run(  # noqa: S603 (our own module, our arguments)
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise BenchError(f"{what} failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@dataclass
class Target:
    name: str
    log_dir: Path
    # Server processes, each on a port of its own, as deploy/ runs daphne nodes behind nginx.
    ports: list[int] = field(default_factory=list)
    servers: list[subprocess.Popen] = field(default_factory=list)
    extra: list[subprocess.Popen] = field(default_factory=list)
    description: dict = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        """The URLs chargers are configured with, one per server process; they append their
        own id."""
        return [f"ws://127.0.0.1:{port}/ocpp/{TENANT}/" for port in self.ports]

    @property
    def connection_pids(self) -> list[int]:
        """The processes that hold the chargers' sockets (their RSS is the memory figure)."""
        return [server.pid for server in self.servers]

    def server_pids(self) -> dict[str, list[int]]:
        """The processes serving the load, by group, for the CPU figures."""
        return {"baseline": self.connection_pids}

    def database_activity(self) -> dict[str, int]:
        """Cumulative counters of the target's database (empty when it has none to ask)."""
        return {}

    def stored(self, answered: dict) -> dict | None:
        """What the target stored of what it answered (`bench.stored`); None when it stores
        nothing."""
        return None

    def commander(self, *args: str, env: dict | None = None) -> dict:
        return run_json("bench.commander", *args, env=env, what="the command sender")

    def start_server(self, args: list[str], env: dict | None = None, count: int = 1) -> None:
        for n in range(count):
            port = free_port()
            log = self.log_dir / f"{self.name}-server{'' if n == 0 else f'-{n + 1}'}.log"
            with open(log, "w") as out:
                server = subprocess.Popen(  # noqa: S603 (our own server, our arguments)
                    [sys.executable, *args, "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.ports.append(port)
            self.servers.append(server)
            wait_for_port(port, server, log)

    def close(self) -> None:
        for process in [*self.extra, *self.servers]:
            stop(process)


class Baseline(Target):
    def __enter__(self) -> Baseline:
        self.start_server(["-m", "bench.baseline"])
        self.description = {"server": "ocpp library on websockets, nothing persisted"}
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send_commands(self, ids: list[str], count: int) -> dict:
        control = f"ws://127.0.0.1:{self.ports[0]}/control"
        return self.commander(
            "--control-url", control, "--ids", ",".join(ids), "--count", str(count)
        )


def postgres_admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))


def create_scratch_database(server: str, prefix: str, template: str = "") -> str:
    """A new database named `prefix`<random> on `server`'s PostgreSQL: empty, or a copy of
    `template` (a database migrated already: copying it takes a fraction of a second where
    migrating an empty one takes 20 s of CPU). PostgreSQL copies a template only while nobody
    is connected to it, so a copy waits a little for sessions that are still closing."""
    import psycopg

    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    try:
        with psycopg.connect(postgres_admin_url(server), autocommit=True) as conn:
            for _ in range(TEMPLATE_ATTEMPTS - 1):
                try:
                    conn.execute(statement)
                    return name
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.5)
            conn.execute(statement)  # the last try: its error is the caller's
    except psycopg.errors.InvalidCatalogName:
        raise SystemExit(f"--database-template: no database {template} on that server") from None
    return name


def drop_scratch_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(postgres_admin_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Project(Target):
    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        chargers: int,
        processes: int = 1,
        database_counts: bool = True,
        database_template: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.database_url, self.redis_url, self.chargers = database_url, redis_url, chargers
        self.database_template = database_template
        self.processes = processes
        self.database_counts = database_counts
        self.database = ""
        self.sqlite_path: Path | None = None
        self.env: dict = {}

    def __enter__(self) -> Project:
        try:
            self.create_database()
            # On a copy of a migrated template: nothing to apply, only what follows migrating
            # (content types, permissions) where the template lacks it.
            self.manage("migrate", "--noinput", "-v", "0")
            self.python(
                "-m",
                "bench.seed",
                "--tenant",
                TENANT,
                "--prefix",
                PREFIX,
                "--count",
                str(self.chargers),
                "--password",
                PASSWORD,
                "--tags",
                ",".join(ID_TAGS),
            )
            serve = ["manage.py", "serve"]
            if self.redis_url:
                # With Redis, Celery runs as production runs it: a worker process of its own.
                serve.append("--no-worker")
                self.purge_tasks()
                log = self.log_dir / "project-celery.log"
                with open(log, "w") as out:
                    self.extra.append(
                        subprocess.Popen(  # noqa: S603 (Celery of this project)
                            [sys.executable, "-m", "celery", "-A", "cpms", "worker"]
                            + ["--concurrency", "1", "--loglevel", "WARNING"],
                            cwd=ROOT,
                            env=self.env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            self.start_server(serve, env=self.env, count=self.processes)
        except BaseException:
            self.__exit__()
            raise
        self.description = {
            "server": "manage.py serve (daphne)"
            + (f" x {self.processes} processes" if self.processes > 1 else ""),
            "database": "PostgreSQL" if self.database else "SQLite",
            "channel_layer": "Redis" if self.redis_url else "in-process",
            "celery": "worker process" if self.redis_url else "embedded threads",
        }
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if self.redis_url and self.env:
            with contextlib.suppress(BenchError):  # the database is dropped all the same
                self.purge_tasks()
        self.drop_database()

    def purge_tasks(self) -> None:
        """Empty the Celery queue: tasks a run leaves behind (an alert evaluation for every
        charger that disconnected at its end) refer to its dropped database, and the next
        run's worker would spend the measured window working through them."""
        self.python("-m", "celery", "-A", "cpms", "purge", "-f")

    def create_database(self) -> None:
        base = {
            k: v
            for k, v in os.environ.items()
            if k not in {"CI", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        if self.database_url.startswith(("postgres://", "postgresql://")):
            self.database = create_scratch_database(
                self.database_url, SCRATCH_PREFIX, self.database_template
            )
            parts = urlsplit(self.database_url)
            url = urlunsplit(("postgres", parts.netloc, f"/{self.database}", "", ""))
        else:
            self.sqlite_path = ROOT / "var" / f"bench-{uuid.uuid4().hex[:10]}.sqlite3"
            url = f"sqlite:///{self.sqlite_path}"
        self.env = {
            **base,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "cpms.settings",
            "LOG_LEVEL": "WARNING",
            # Every charger socket may need a connection at the same moment during a storm.
            "DATABASE_POOL_MAX": base.get("DATABASE_POOL_MAX", "20"),
        }
        if self.redis_url:
            self.env["REDIS_URL"] = self.redis_url

    def drop_database(self) -> None:
        if self.database:
            drop_scratch_database(self.database_url, self.database)
            self.database = ""
        if self.sqlite_path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            self.sqlite_path = None

    def python(self, *args: str) -> None:
        completed = subprocess.run(  # noqa: S603 (our own modules, our arguments)
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if completed.returncode != 0:
            raise BenchError(f"{' '.join(args[:3])} failed: {completed.stderr[-2000:]}")

    def manage(self, *args: str) -> None:
        self.python("manage.py", *args)

    def server_pids(self) -> dict[str, list[int]]:
        groups = {"daphne": [p for pid in self.connection_pids for p in procstat.descendants(pid)]}
        if self.extra:
            groups["celery"] = [pid for p in self.extra for pid in procstat.descendants(p.pid)]
        if self.database:
            groups["postgres"] = procstat.postgres_pids(self.database)
        if self.redis_url:
            groups["redis"] = procstat.redis_pids()
        return groups

    def database_activity(self) -> dict[str, int]:
        """PostgreSQL's statistics of the scratch database: transactions committed and rolled
        back, rows written. They are the round trips a storm or a session costs, counted, not
        timed, so two runs on a busy machine still compare."""
        if not self.database or not self.database_counts:
            return {}
        import psycopg

        # An idle backend reports what it counted after 10 s (PostgreSQL 15's idle interval).
        time.sleep(STATS_FLUSH_S)
        with psycopg.connect(postgres_admin_url(self.database_url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted "
                "FROM pg_stat_database WHERE datname = %s",
                [self.database],
            ).fetchone()
        keys = ("commits", "rollbacks", "rows_inserted", "rows_updated", "rows_deleted")
        return dict(zip(keys, row, strict=True)) if row else {}

    def stored(self, answered: dict) -> dict | None:
        return run_json(
            "bench.stored", env=self.env, stdin=json.dumps(answered), what="counting the stored"
        )

    def send_commands(self, ids: list[str], count: int) -> dict:
        if not self.redis_url:
            raise BenchError("commands from another process need a Redis channel layer")
        return self.commander(
            "--tenant", TENANT, "--ids", ",".join(ids), "--count", str(count), env=self.env
        )


def charger_ids(count: int) -> list[str]:
    return [identity(PREFIX, n) for n in range(1, count + 1)]
