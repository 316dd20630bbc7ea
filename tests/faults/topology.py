"""The production topology on this machine, minus containers: daphne nodes (`manage.py serve`)
behind nginx, a Celery worker and Celery beat, the test's PostgreSQL database and a Redis of the
topology's own (channel layer and broker: the tests stop it, no other test's Redis). Every part
is a process group of its own, ended whatever happens; a test kills and restarts parts by
name."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.aio import eventually
from tests.helpers import ROOT, free_port, own_redis, server_process, stop_process_group
from tests.nginx import running_nginx

NODE_APPLICATION_NAME = "cpms-fault-node"
WORKER_APPLICATION_NAME = "cpms-fault-worker"
BEAT_APPLICATION_NAME = "cpms-fault-beat"
# Seconds before a task of a killed worker is queued again (CELERY_VISIBILITY_TIMEOUT).
VISIBILITY_SECONDS = 5
# How often beat prices what a lost task left unpriced (PRICING_SWEEP_SECONDS): production's
# 5 minutes would outlast the test's patience.
PRICING_SWEEP_SECONDS = 15
# What the sweep says when it prices a session (billing.tasks.price_missed_sessions).
SWEEP_PRICED = "the sweep priced"
# Bounds a request or a wait that would otherwise hang.
PATIENCE = 120.0
FINISHED = {"answered", "call_error", "timeout", "offline", "refused"}

NGINX_HTTP = """
upstream cpms_daphne {{
    least_conn;
{servers}
}}
map $http_upgrade $cpms_connection_upgrade {{
    default upgrade;
    ""      close;
}}
server {{
    listen 127.0.0.1:{port};
    location / {{
        include {proxy};
    }}
}}
"""


@dataclass
class Topology:
    database_url: str
    nodes: int = 2
    directory: Path = field(default_factory=lambda: ROOT / "var" / f"faults-{os.getpid()}")
    redis: subprocess.Popen | None = None
    redis_url: str = ""
    node_ports: list[int] = field(default_factory=list)
    node_processes: list[subprocess.Popen | None] = field(default_factory=list)
    worker: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    proxy_port: int = 0
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _node_stacks: list[contextlib.ExitStack] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Where chargers connect: nginx."""
        return f"ws://127.0.0.1:{self.proxy_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def env(self, application_name: str) -> dict:
        from tests.helpers import child_env

        return child_env(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            LOG_LEVEL="WARNING",
            PGAPPNAME=application_name,
            OCPP_HANDSHAKE_THROTTLE="false",
            TRUSTED_PROXIES="127.0.0.1",
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
            PRICING_SWEEP_SECONDS=str(PRICING_SWEEP_SECONDS),
        )

    def __enter__(self) -> Topology:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self.redis, self.redis_url = self._stack.enter_context(own_redis())
            self.node_ports = [free_port() for _ in range(self.nodes)]
            self.node_processes = [None] * self.nodes
            self._node_stacks = [contextlib.ExitStack() for _ in range(self.nodes)]
            for index in range(self.nodes):
                self.start_node(index)
            self.start_worker()
            self.beat = self._celery(
                BEAT_APPLICATION_NAME, "beat", "--schedule", str(self.directory / "beat-schedule")
            )
            self.proxy_port = free_port()
            servers = "\n".join(
                f"    server 127.0.0.1:{port} max_fails=0;" for port in self.node_ports
            )
            http = NGINX_HTTP.format(
                servers=servers,
                port=self.proxy_port,
                proxy=ROOT / "deploy" / "nginx" / "cpms-ocpp-proxy.conf",
            )
            self._stack.enter_context(
                running_nginx(self.directory / "nginx", http, [self.proxy_port])
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for process in (self.worker, self.beat):
            if process is not None:
                stop_process_group(process)
        for stack in self._node_stacks:
            stack.close()
        self._stack.close()
        if not os.environ.get("KEEP_SERVER_LOG"):
            shutil.rmtree(self.directory, ignore_errors=True)

    # --- Nodes ---------------------------------------------------------------------------

    def start_node(self, index: int) -> None:
        """Node `index` on its port (again, after a kill)."""
        stack = self._node_stacks[index]
        process, _ = stack.enter_context(
            server_process(
                self.env(NODE_APPLICATION_NAME), "--no-worker", port=self.node_ports[index]
            )
        )
        self.node_processes[index] = process

    def kill_node(self, index: int) -> int:
        """kill -9 of node `index` (its whole process group); its pid."""
        process = self.node_processes[index]
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self._node_stacks[index].close()
        self.node_processes[index] = None
        return process.pid

    # --- Celery --------------------------------------------------------------------------

    def start_worker(self) -> None:
        self.worker = self._celery(
            WORKER_APPLICATION_NAME,
            "worker",
            # Threads: the ended sessions' pricing keeps up; one process, killed whole.
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )

    def _celery(self, application_name: str, *arguments: str) -> subprocess.Popen:
        """`celery -A cpms <arguments>`, its output appended to <arguments[0]>.log."""
        log = open(self.directory / f"{arguments[0]}.log", "a")  # noqa: SIM115 (its lifetime)
        with log:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "cpms", *arguments, "--loglevel", "WARNING"],
                cwd=ROOT,
                env=self.env(application_name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def swept(self) -> list[str]:
        """What the pricing sweep said it priced (tasks the broker lost), from the worker's log."""
        text = (self.directory / "worker.log").read_text(errors="replace")
        return [line.strip() for line in text.splitlines() if SWEEP_PRICED in line]

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = None


# --- Commands through the API, as an integrator sends them ----------------------------


def api(topology: Topology, key: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (http, built here)
        f"{topology.http}/api/v1/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE) as answer:  # noqa: S310
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, {"body": refused.read().decode(errors="replace")}


async def command_outcome(topology: Topology, key: str, charger_id: int) -> tuple[int, str, str]:
    """A TriggerMessage sent through the API: the HTTP status of the request, then the
    command's final status and error."""
    status, body = await asyncio.to_thread(
        api,
        topology,
        key,
        "commands/",
        {"charger": charger_id, "action": "trigger", "arguments": {"message": "Heartbeat"}},
    )
    if status >= 300:
        return status, "", body.get("body", "")

    async def finished():
        _, polled = await asyncio.to_thread(api, topology, key, f"commands/{body['id']}/")
        return polled if polled.get("status") in FINISHED else None

    polled = await eventually(finished, PATIENCE, every=0.5, what="the command's outcome")
    return status, polled["status"], polled.get("error", "")
