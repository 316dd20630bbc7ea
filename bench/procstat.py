"""CPU time and memory of the server's processes, read from /proc.

CPU per answered call is the benchmark's central figure because it does not depend on how much
CPU the load generator takes on the same machine: it sums user and system time of every process
that serves the load (daphne, its PostgreSQL backends and the cluster's writer processes,
redis-server, Celery workers) over the measured window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# PostgreSQL's own processes that do the cluster's writing for every backend.
POSTGRES_HELPERS = ("walwriter", "checkpointer", "background writer", "autovacuum")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its ")" splits cleanly.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds; 0 for a process that is gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # Fields 14 and 15 of stat(5) are utime and stime; the slice starts at field 3.
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    try:
        resident = (PROC / str(pid) / "statm").read_text().split()[1]
    except OSError:
        return 0
    return int(resident) * PAGE


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def descendants(root: int) -> list[int]:
    """The process and all its children (Celery's prefork pool), found through ppid."""
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        fields = _stat(pid)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def postgres_pids(database: str) -> list[int]:
    """The backends connected to `database`, the postmaster that forks them, and the helper
    processes that write for every backend. Other databases' backends are left out: the
    machine's PostgreSQL may be shared."""
    found = []
    for pid in all_pids():
        line = cmdline(pid)
        if not line.startswith(("postgres", "/usr/lib/postgresql")):
            continue
        if line.startswith("postgres:"):
            # A backend's title is "postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE"; the
            # scratch database's name is unique enough to be matched as a word.
            if f" {database} " in f"{line} ":
                found.append(pid)
            elif any(helper in line for helper in POSTGRES_HELPERS):
                found.append(pid)
        elif "postgres" in line.split()[0]:
            found.append(pid)  # the postmaster
    return found


def redis_pids() -> list[int]:
    return [pid for pid in all_pids() if cmdline(pid).startswith("redis-server")]


@dataclass
class Snapshot:
    at: dict[str, dict[int, float]]  # group ("daphne", "postgres", ...) -> pid -> CPU seconds

    def by_group(self, before: Snapshot) -> dict[str, float]:
        """CPU seconds per group between two snapshots; a process that appeared in between
        (a new backend) counts from zero."""
        return {
            group: sum(now - before.at.get(group, {}).get(pid, 0.0) for pid, now in pids.items())
            for group, pids in self.at.items()
        }

    def minus(self, before: Snapshot) -> float:
        return sum(self.by_group(before).values())


def snapshot(groups: dict[str, list[int]]) -> Snapshot:
    return Snapshot(
        {group: {pid: cpu_seconds(pid) for pid in pids} for group, pids in groups.items()}
    )
