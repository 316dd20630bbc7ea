"""`python -m bench` (`make bench`): the command line, the printed table and the JSON file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path

from bench import scenarios
from bench.load import raise_open_files_limit
from bench.scenarios import SCENARIOS, Sizes
from bench.targets import ROOT, Baseline, BenchError, Project

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
# A Redis database of its own, so that the benchmark's Celery worker never takes the tasks of
# anything else using the same Redis.
LOCAL_REDIS = "redis://127.0.0.1:6379/12"
# Beyond this share of one core, a load worker may be what limits the figures.
SATURATED_PCT = 90

# (figure, label, the target for it); a ratio target is marked "x".
STORED_ROWS = [
    ("answered_to_store", "answered: rows to store", ""),
    ("missing_in_database", "answered but not stored", "0"),
    ("doubled_in_database", "stored more than once", "0"),
    ("left_open", "sessions left open", "0"),
]
SESSION_ROWS = [
    ("sessions_per_s", "sessions per s", ""),
    ("calls_per_s", "calls per s", ""),
    ("p50_ms", "p50 (ms)", ""),
    ("p99_ms", "p99 (ms)", ""),
    ("server_cpu_us_per_call", "server CPU per call (us)", "<= 1.5x"),
    ("commits_per_call", "database commits per call", ""),
    *STORED_ROWS,
]
ROWS = {
    "hold": [
        ("held", "chargers held", ""),
        ("p50_ms", "heartbeat p50 (ms)", ""),
        ("p99_ms", "heartbeat p99 (ms)", "< 100"),
        ("rss_per_connection_kib", "memory per connection (KiB)", "<= 100"),
        ("server_cpu_us_per_call", "server CPU per heartbeat (us)", ""),
    ],
    "storm": [
        ("accepted", "chargers Accepted", ""),
        ("all_accepted_s", "until all Accepted (s)", "<= 30"),
        ("slowest_reply_ms", "slowest reply (ms)", "<= 5000"),
        ("busy_refusals", "refused busy (503), retried", ""),
        ("commits_per_charger", "database commits per charger", ""),
    ],
    "meter_values": [
        ("calls_per_s", "MeterValues per s", ""),
        ("p50_ms", "p50 (ms)", ""),
        ("p99_ms", "p99 (ms)", ""),
        ("server_cpu_us_per_call", "server CPU per call (us)", "<= 1.5x"),
        ("commits_per_call", "database commits per call", ""),
        *STORED_ROWS,
    ],
    "sessions": SESSION_ROWS,
    "sessions_201": SESSION_ROWS,
    "fleet": [
        ("held", "chargers held", ""),
        ("calls_per_s", "calls per s", ""),
        ("sessions", "sessions", ""),
        ("p50_ms", "p50 (ms)", ""),
        ("p99_ms", "p99 (ms)", ""),
        ("slowest_ms", "slowest reply (ms)", "<= 5000"),
        ("calls_slower_than_5s", "calls slower than 5 s", "0"),
        ("server_cpu_us_per_call", "server CPU per call (us)", ""),
        ("commits_per_call", "database commits per call", ""),
        *STORED_ROWS,
    ],
    "command": [
        ("held", "chargers connected", ""),
        ("answered", "commands answered", ""),
        ("p50_ms", "round trip p50 (ms)", ""),
        ("p99_ms", "round trip p99 (ms)", "< 50"),
    ],
}
TITLES = {
    "hold": "hold",
    "storm": "storm",
    "meter_values": "throughput: MeterValues",
    "sessions": "throughput: sessions",
    "sessions_201": "throughput: 2.0.1 sessions",
    "command": "command",
    "fleet": "realistic fleet",
}


def parser() -> argparse.ArgumentParser:
    defaults = Sizes()
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the project's OCPP server against a bare `ocpp` library server.",
    )
    p.add_argument("--hold", type=int, default=defaults.hold, help="chargers held")
    p.add_argument("--hold-interval", type=float, default=defaults.hold_interval)
    p.add_argument("--hold-duration", type=float, default=defaults.hold_duration)
    p.add_argument("--throughput-chargers", type=int, default=defaults.throughput_chargers)
    p.add_argument("--throughput-duration", type=float, default=defaults.throughput_duration)
    p.add_argument("--storm", type=int, default=defaults.storm, help="chargers in the storm")
    p.add_argument("--storm-timeout", type=float, default=defaults.storm_timeout)
    p.add_argument("--command-chargers", type=int, default=defaults.command_chargers)
    p.add_argument("--commands", type=int, default=defaults.commands)
    p.add_argument("--fleet", type=int, default=defaults.fleet, help="chargers of the fleet")
    p.add_argument("--fleet-duration", type=float, default=defaults.fleet_duration)
    p.add_argument(
        "--fleet-interval",
        type=float,
        default=defaults.fleet_interval,
        help="seconds between a session's MeterValues (the fleet's pace)",
    )
    p.add_argument("--workers", type=int, default=defaults.workers, help="load processes")
    p.add_argument(
        "--servers",
        type=int,
        default=1,
        help="the project's daphne processes, each on a port of its own (chargers spread over "
        "them as a proxy in front of several nodes spreads them)",
    )
    p.add_argument("--ramp", type=int, default=defaults.ramp, help="connects at once per worker")
    p.add_argument("--call-timeout", type=float, default=defaults.call_timeout)
    p.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios (default all: {','.join(SCENARIOS)})",
    )
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    p.add_argument(
        "--database-template",
        default="",
        help="a migrated PostgreSQL database on that server to copy for the scratch database "
        "instead of migrating an empty one",
    )
    p.add_argument(
        "--embedded",
        action="store_true",
        help="SQLite and in-process parts even when PostgreSQL and Redis answer locally",
    )
    p.add_argument(
        "--no-database-counts",
        action="store_true",
        help="leave out PostgreSQL's commit and row counts: its statistics arrive up to 10 s "
        "late, so each scenario waits twice for them (22 s)",
    )
    p.add_argument("--output", type=Path, default=ROOT / "var" / "bench", help="JSON directory")
    return p


def sizes_from(options: argparse.Namespace) -> Sizes:
    return Sizes(**{f.name: getattr(options, f.name) for f in fields(Sizes)})


def check(options: argparse.Namespace, only: list[str]) -> None:
    unknown = [name for name in only if name not in SCENARIOS]
    if unknown:
        raise SystemExit(f"--only: unknown scenario {', '.join(unknown)}")
    for name in (
        "hold",
        "throughput_chargers",
        "storm",
        "command_chargers",
        "commands",
        "fleet",
        "workers",
        "servers",
    ):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')}: must be at least 1")
    for name in (
        "hold_interval",
        "hold_duration",
        "throughput_duration",
        "fleet_duration",
        "fleet_interval",
        "call_timeout",
    ):
        if getattr(options, name) <= 0:
            raise SystemExit(f"--{name.replace('_', '-')}: must be positive")


def answers(url: str) -> bool:
    """Whether the service at `url` is up (PostgreSQL or Redis)."""
    try:
        if url.startswith("redis"):
            import redis

            return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
        import psycopg

        psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2).close()
        return True
    except Exception:  # any failure means "not here": the run falls back to embedded parts
        return False


def real_parts(options: argparse.Namespace) -> tuple[str, str]:
    """PostgreSQL and Redis: the ones given, else the local ones when they answer."""
    if options.embedded:
        return "", ""
    database = options.database_url
    if not database and answers(LOCAL_POSTGRES):
        database = LOCAL_POSTGRES
    redis_url = options.redis_url
    if not redis_url and answers(LOCAL_REDIS):
        redis_url = LOCAL_REDIS
    return database, redis_url


def measure(target, only: list[str], sizes: Sizes, skip: dict[str, str]) -> dict:
    results = {}
    for name in only:
        if name in skip:
            results[name] = {"skipped": skip[name]}
            continue
        print(f"  {target.name}: {name}...", file=sys.stderr, flush=True)
        try:
            results[name] = scenarios.run(target, name, sizes)
        except BenchError as error:
            results[name] = {"error": str(error)}
    return results


def ratio(project, baseline) -> float | None:
    numbers = (int, float)
    if isinstance(project, numbers) and isinstance(baseline, numbers) and baseline:
        return round(project / baseline, 2)
    return None


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}"


def table(report: dict) -> str:
    lines = [
        f"CPMS benchmark {report['started_at']}  ({report['machine']['cpus']} CPUs, "
        f"project on {', '.join(f'{k}: {v}' for k, v in report['project'].items())})",
        "",
        f"{'scenario':<28} {'figure':<30} {'project':>10} {'baseline':>10} "
        f"{'ratio':>7} {'target':>8}",
        "-" * 98,
    ]
    notes = []
    for name, result in report["scenarios"].items():
        project, baseline = result["project"], result["baseline"]
        title = f"{TITLES[name]} ({project.get('chargers') or baseline.get('chargers') or '-'})"
        for side, figures in (("project", project), ("baseline", baseline)):
            for key in ("skipped", "error"):
                if key in figures:
                    notes.append(f"{TITLES[name]}, {side}: {key}: {figures[key]}")
            if figures.get("errors"):
                notes.append(f"{TITLES[name]}, {side}: failures {figures['errors']}")
            if figures.get("loadgen_busiest_pct", 0) > SATURATED_PCT:
                notes.append(
                    f"{TITLES[name]}, {side}: a load worker was {figures['loadgen_busiest_pct']}% "
                    "busy; the load generator may have limited this figure (add --workers)."
                )
        rows = [*ROWS[name], ("loadgen_busiest_pct", "load generator, busiest (%)", "")]
        for key, label, target in rows:
            lines.append(
                f"{title:<28} {label:<30} {cell(project.get(key)):>10} "
                f"{cell(baseline.get(key)):>10} {cell(result['ratio'].get(key)):>7} {target:>8}"
            )
            title = ""
    lines.append("-" * 98)
    lines.append(
        "ratio = project / baseline. Server CPU sums user+system time of every server process "
        "(daphne,\nPostgreSQL backends and writers, redis-server, Celery) over the window, "
        "divided by the calls answered."
    )
    return "\n".join([*lines, *notes])


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    # Stopped from outside (a test's bound, a supervisor): leave through the context managers
    # below, which stop the servers they started and drop the scratch database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    only = [name.strip() for name in options.only.split(",") if name.strip()]
    check(options, only)
    sizes = sizes_from(options)
    raise_open_files_limit()
    database, redis_url = real_parts(options)
    if options.database_template and not database:
        raise SystemExit("--database-template: copies a PostgreSQL database; this run is on SQLite")
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    options.output.mkdir(parents=True, exist_ok=True)
    log_dir = options.output / f"{stamp}-logs"
    log_dir.mkdir(exist_ok=True)
    chargers = max(sizes.chargers(name) for name in SCENARIOS)
    try:
        print("Baseline (ocpp library on websockets)...", file=sys.stderr, flush=True)
        with Baseline(name="baseline", log_dir=log_dir) as baseline:
            baseline_results = measure(baseline, only, sizes, skip={})
        print("Project (manage.py serve)...", file=sys.stderr, flush=True)
        skip = {} if redis_url else {"command": "commands from another process need Redis"}
        with Project(
            name="project",
            log_dir=log_dir,
            database_url=database,
            redis_url=redis_url,
            chargers=chargers,
            processes=options.servers,
            database_counts=not options.no_database_counts,
            database_template=options.database_template,
        ) as project:
            project_results = measure(project, only, sizes, skip=skip)
            description = project.description
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "sizes": asdict(sizes),
        "project": description,
        "scenarios": {
            name: {
                "project": project_results[name],
                "baseline": baseline_results[name],
                "ratio": {
                    key: ratio(project_results[name].get(key), baseline_results[name].get(key))
                    for key in project_results[name]
                    if ratio(project_results[name].get(key), baseline_results[name].get(key))
                    is not None
                },
            }
            for name in only
        },
    }
    path = options.output / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nResults: {path}  (server logs: {log_dir})")
    return 0
