"""`python -m bench.pages` (`make bench-pages`): how fast the dashboard's pages render for a
big fleet.

The issue's target: every page renders in under 150 ms of server time with 10,000 chargers and
a million sessions in PostgreSQL. This command creates a scratch PostgreSQL database, migrates
it (or copies `--database-template`, migrated already), seeds one tenant with that fleet
(`bench.seed.seed_fleet`: sites, owners, chargers with connectors, sessions, meter series,
status history, alerts) and a second small tenant, then renders each page through Django's
test client in this process, the whole request cycle (middleware, session, tenant resolution,
view, template, streamed body), `--repeat` times. It prints one row per page (p50, p95 and max
in ms, the SQL queries one render costs, the target) and writes the same to
var/bench/pages-<time>.json. The scratch database is dropped at the end unless `--keep`;
`--database NAME` measures a kept one again (migrated first, not reseeded).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench import procstat
from bench.cli import LOCAL_POSTGRES, LOCAL_REDIS, answers
from bench.scenarios import percentile
from bench.targets import ROOT, create_scratch_database, drop_scratch_database

TARGET_MS = 150.0
MAIN = "pages"
OTHER = "pages-other"
SCRATCH_PREFIX = "cpms_pagebench_"
# The pages the benchmark renders, in the order of the table.
PAGE_NAMES = (
    "fleet overview",
    "chargers",
    "chargers: filtered",
    "chargers: search",
    "chargers: sorted by last seen",
    "chargers: deep page",
    "charger detail",
    "sessions",
    "sessions: site and dates",
    "sessions: deep page",
    "session detail",
    "sessions CSV: one day",
    "sites",
    "site detail",
    "alerts",
    "portal home",
    "portal site",
    "platform overview",
)


@dataclass
class Page:
    name: str
    url: str
    user: str  # "admin", "owner" or "staff"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.pages",
        description="Render the dashboard's pages for a big fleet on a scratch PostgreSQL "
        "database and report server time per page.",
    )
    p.add_argument("--chargers", type=int, default=10_000, help="chargers of the big tenant")
    p.add_argument("--sessions", type=int, default=1_000_000, help="its charging sessions")
    p.add_argument("--repeat", type=int, default=20, help="timed renders per page")
    p.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server (any database on it); default: the local one",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="the cache, as in production; default: the local Redis when it answers",
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    p.add_argument(
        "--database-template",
        default="",
        help="a migrated database on that server to copy for the scratch database instead of "
        "migrating an empty one",
    )
    p.add_argument(
        "--database",
        default="",
        help="measure this database kept by an earlier --keep run instead of seeding a new one",
    )
    p.add_argument("--output", type=Path, default=ROOT / "var" / "bench", help="JSON directory")
    return p


def check(options: argparse.Namespace) -> None:
    for name in ("chargers", "sessions", "repeat"):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name}: must be at least 1")
    if options.sessions < options.chargers:
        raise SystemExit("--sessions: must be at least --chargers (every charger has history)")
    if options.database and not options.database.startswith(SCRATCH_PREFIX):
        raise SystemExit(f"--database: only a kept scratch database ({SCRATCH_PREFIX}...)")
    if options.database and options.database_template:
        raise SystemExit("--database-template: not with --database, which is measured as kept")


def server_url(options: argparse.Namespace) -> str:
    url = options.database_url
    if not url and answers(LOCAL_POSTGRES):
        url = LOCAL_POSTGRES
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "--database-url: the page benchmark needs PostgreSQL (none given, and none answers "
            "at 127.0.0.1:5432)"
        )
    return url


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))


def set_up_django(url: str, redis_url: str) -> None:
    """Point this process's Django at the scratch database; must run before django.setup()."""
    for name in ("CI", "DJANGO_SETTINGS_MODULE", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="cpms.settings", LOG_LEVEL="WARNING")
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def seed(options: argparse.Namespace) -> dict:
    """Both tenants and a platform staff user; returns the big tenant's `Fleet` as a dict."""
    from bench.seed import FleetSize, analyze, seed_fleet
    from cpms.models import Tenant, User

    big = seed_fleet(
        slug=MAIN,
        name="Pages",
        size=FleetSize(chargers=options.chargers, sessions=options.sessions),
        prefix="PG-",
        progress=say,
    )
    other = seed_fleet(
        slug=OTHER,
        name="Other operator",
        size=FleetSize(chargers=min(50, options.chargers), sessions=min(5_000, options.sessions)),
        prefix="OT-",
        progress=say,
    )
    User.objects.create_superuser(email="staff@pages.bench")
    say("VACUUM ANALYZE...")
    analyze(
        [
            "chargers_charger",
            "chargers_connector",
            "chargers_chargingsession",
            "chargers_metersample",
            "chargers_statusevent",
            "chargers_connectionevent",
            "chargers_idtoken",
            "alerts_alert",
            "cpms_site",
        ]
    )
    fleet = asdict(big)
    fleet["other_counts"] = other.counts
    # The fleet's description stays with the database, for `--database` runs.
    Tenant.objects.filter(slug=MAIN).update(settings={"bench_fleet": fleet})
    return fleet


def pages(fleet: dict, options: argparse.Namespace) -> list[Page]:
    import zoneinfo

    from django.urls import reverse
    from django.utils import timezone

    slug = fleet["slug"]

    def url(name: str, pk: int | None = None, **query) -> str:
        kwargs = {"tenant_slug": slug, **({"pk": pk} if pk else {})}
        path = reverse(name, kwargs=kwargs)
        return f"{path}?{urlencode(query)}" if query else path

    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("Europe/Berlin")).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    charger_pages = math.ceil(options.chargers / 50)
    session_pages = math.ceil(options.sessions / 50)
    listed = [
        ("fleet overview", url("tenant_overview"), "admin"),
        ("chargers", url("charger_list"), "admin"),
        ("chargers: filtered", url("charger_list", vendor=fleet["vendor"], state="charging"), ""),
        ("chargers: search", url("charger_list", q="0042"), ""),
        ("chargers: sorted by last seen", url("charger_list", sort="-last_seen"), ""),
        ("chargers: deep page", url("charger_list", page=max(1, charger_pages * 3 // 4)), ""),
        ("charger detail", url("charger_detail", fleet["charger_id"]), ""),
        ("sessions", url("session_list"), ""),
        (
            "sessions: site and dates",
            url(
                "session_list",
                site=fleet["site_id"],
                since=(today - timedelta(days=30)).isoformat(),
                until=today.isoformat(),
            ),
            "",
        ),
        ("sessions: deep page", url("session_list", page=max(1, session_pages // 2)), ""),
        ("session detail", url("session_detail", fleet["session_id"]), ""),
        ("sessions CSV: one day", url("session_export", since=yesterday, until=yesterday), ""),
        ("sites", url("site_list"), ""),
        ("site detail", url("site_detail", fleet["site_id"]), ""),
        ("alerts", url("alert_list"), ""),
        (
            "portal home",
            reverse("portal_home", kwargs={"tenant_slug": slug}),
            "owner",
        ),
        (
            "portal site",
            reverse("portal_site", kwargs={"tenant_slug": slug, "pk": fleet["portal_site_id"]}),
            "owner",
        ),
        ("platform overview", reverse("platform"), "staff"),
    ]
    return [Page(name=name, url=path, user=user or "admin") for name, path, user in listed]


def render(client, url: str) -> tuple[int, int, float]:
    """One request through the whole stack; the body is read to the end (CSV streams)."""
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    elapsed = time.perf_counter() - started
    return response.status_code, size, elapsed


class QueryLog:
    """Counts the SQL statements of a render and keeps the slowest, through the connection's
    execute wrapper (Django's own query log is reset at every request start)."""

    def __init__(self):
        self.count = 0
        self.slowest = (0.0, "")

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, sql)


def backends(database: str) -> list[int]:
    """This database's PostgreSQL backends (the pool's connections), nothing else of a
    cluster that other work shares."""
    return [
        pid
        for pid in procstat.all_pids()
        if procstat.cmdline(pid).startswith("postgres:")
        and f" {database} " in f"{procstat.cmdline(pid)} "
    ]


def cpu_used(database: str, run) -> float:
    """CPU seconds that `run()` cost this process and the database's backends: a figure that,
    unlike wall time, other work on a shared machine hardly changes."""
    before = {pid: procstat.cpu_seconds(pid) for pid in backends(database)}
    started = time.process_time()
    run()
    own = time.process_time() - started
    after = {pid: procstat.cpu_seconds(pid) for pid in backends(database)}
    return own + sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def measure(fleet: dict, options: argparse.Namespace, database: str) -> dict:
    from django.db import connection
    from django.test import Client

    from cpms.models import User

    users = {
        "admin": User.objects.get(pk=fleet["admin_id"]),
        "owner": User.objects.get(pk=fleet["portal_user_id"]),
        "staff": User.objects.get(email="staff@pages.bench"),
    }
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    results = {}
    for page in pages(fleet, options):
        client = clients[page.user]
        # The first render warms caches and counts the queries; the timed ones follow.
        queries = QueryLog()
        with connection.execute_wrapper(queries):
            status, size, first = render(client, page.url)
        times, statuses = [], []

        def renders(client=client, page=page, times=times, statuses=statuses):
            for _ in range(options.repeat):
                status, _, elapsed = render(client, page.url)
                statuses.append(status)
                times.append(elapsed)

        cpu = cpu_used(database, renders)
        status = next((code for code in [status, *statuses] if code != 200), 200)
        results[page.name] = {
            "url": page.url,
            "user": page.user,
            "status": status,
            "bytes": size,
            "queries": queries.count,
            "slowest_query_ms": round(queries.slowest[0] * 1000, 1),
            "slowest_query": queries.slowest[1],
            "first_ms": round(first * 1000, 1),
            "p50_ms": round(percentile(times, 0.50) * 1000, 1),
            "p95_ms": round(percentile(times, 0.95) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1),
            "cpu_ms": round(cpu * 1000 / options.repeat, 1),
        }
        row = results[page.name]
        say(f"  {page.name}: p50 {row['p50_ms']} ms, {row['queries']} queries, {status}")
    return results


def verdict(row: dict, target: float) -> str:
    if row["status"] != 200:
        return f"HTTP {row['status']}"
    if row["p50_ms"] > target:
        return "OVER"
    return "ok, p95 over" if row["p95_ms"] > target else "ok"


def table(report: dict) -> str:
    counts = report["fleet"]["counts"]
    target = report["target_ms"]
    load = ", ".join(f"{n:.1f}" for n in report["machine"]["load_average"])
    lines = [
        f"Page benchmark {report['started_at']}  ({report['machine']['cpus']} CPUs, load "
        f"average {load}; tenant '{MAIN}': {counts['chargers']:,} chargers, "
        f"{counts['sessions']:,} sessions, {counts['sites']:,} sites; {report['repeat']} "
        "renders per page)",
        "",
        f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>8} {'queries':>8} "
        f"{'target':>7}  status",
        "-" * 100,
    ]
    for name, row in report["pages"].items():
        lines.append(
            f"{name:<32} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['max_ms']:>8.1f} "
            f"{row['cpu_ms']:>8.1f} {row['queries']:>8} {'< ' + format(target, 'g'):>7}  "
            f"{verdict(row, target)}"
        )
    lines.append("-" * 100)
    lines.append(
        "Server time of the whole request (middleware, view, template, the whole body) through "
        "the test client,\nin this process: p50/p95/max of wall time; cpu ms: CPU of this process "
        "and the database's backends\nper render, which other work on a shared machine hardly "
        "changes. OVER: the p50 exceeds the target."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    check(options)
    server = server_url(options)
    redis_url = options.redis_url or (LOCAL_REDIS if answers(LOCAL_REDIS) else "")
    started = datetime.now(UTC)
    name = options.database or create_scratch_database(
        server, SCRATCH_PREFIX, options.database_template
    )
    keep = options.keep or bool(options.database)
    try:
        set_up_django(database_url(server, name), redis_url)
        from django.core.management import call_command

        from cpms.models import Tenant

        say(f"Database {name}: migrating...")
        call_command("migrate", verbosity=0, interactive=False)
        seed_started = time.monotonic()
        if options.database:
            fleet = Tenant.objects.get(slug=MAIN).settings["bench_fleet"]
            options.chargers = fleet["counts"]["chargers"]
            options.sessions = fleet["counts"]["sessions"]
        else:
            fleet = seed(options)
        seed_s = round(time.monotonic() - seed_started, 1)
        say(f"Seeded in {seed_s} s. Rendering each page {options.repeat} times...")
        load_average = [round(n, 2) for n in os.getloadavg()]
        results = measure(fleet, options, name)
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            drop_scratch_database(server, name)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": load_average,
        },
        "database": {"name": name, "kept": keep, "cache": "Redis" if redis_url else "local memory"},
        "fleet": fleet,
        "seed_s": seed_s,
        "repeat": options.repeat,
        "target_ms": TARGET_MS,
        "pages": results,
    }
    options.output.mkdir(parents=True, exist_ok=True)
    path = options.output / f"pages-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nResults: {path}" + (f"  (database kept: {name})" if keep else ""))
    return 0 if all(row["status"] == 200 for row in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
