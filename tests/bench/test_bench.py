"""The benchmark's machinery at a tiny size, against both servers, for real.

No timing is asserted (the machine is shared); what must hold is that every scenario ran
against the project and the baseline and produced figures, and that the scratch database is
gone afterwards.
"""

import asyncio
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from bench.load import Worker
from bench.scenarios import SCENARIOS, percentile
from bench.targets import SCRATCH_PREFIX
from tests.helpers import ROOT, child_env, database_url, run_module

TINY = [
    "--hold", "4", "--hold-interval", "0.3", "--hold-duration", "1",
    "--throughput-chargers", "3", "--throughput-duration", "1",
    "--storm", "4", "--command-chargers", "3", "--commands", "5", "--workers", "1",
    "--fleet", "3", "--fleet-duration", "2", "--fleet-interval", "0.1",
    # PostgreSQL's counts cost 22 s a scenario; the storm over several processes has them.
    "--no-database-counts",
]  # fmt: skip


def server_url() -> str:
    """The test database's server; the benchmark creates its own scratch database there."""
    return database_url(connection.settings_dict)


# The suite's per-test bound is for quick tests; the module's fixture runs the benchmark.
pytestmark = pytest.mark.timeout(1200)


def run_bench(*args: str, output, template: str, django_db_blocker) -> dict:
    """`python -m bench` with `args` on a scratch database of the test database's server
    (a copy of `template`): its JSON, what it printed and the scratch databases it left
    behind."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("the full benchmark needs PostgreSQL and Redis (CI=true sets them)")
    with django_db_blocker.unblock():
        url = server_url()
    completed, left_behind = run_module(
        "bench",
        *args,
        "--database-template",
        template,
        "--output",
        str(output),
        env=child_env(DATABASE_URL=url, REDIS_URL=settings.REDIS_URL),
        scratch_prefix=SCRATCH_PREFIX,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (path,) = output.glob("*.json")
    return {
        "json": json.loads(path.read_text()),
        "stdout": completed.stdout,
        "left_behind": left_behind,
    }


@pytest.fixture(scope="module")
def report(tmp_path_factory, migrated_template, django_db_blocker):
    output = tmp_path_factory.mktemp("bench")
    return run_bench(
        *TINY, output=output, template=migrated_template, django_db_blocker=django_db_blocker
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_it_measures_every_scenario_against_both_servers(report, scenario):
    result = report["json"]["scenarios"][scenario]

    for side in ("project", "baseline"):
        figures = result[side]
        assert "error" not in figures and "skipped" not in figures, figures
        assert figures["errors"] == {}, figures["errors"]
        assert figures["loadgen_cpu_s"] >= 0
        assert figures["server_cpu_s"] >= 0


def test_it_holds_every_charger_and_reports_heartbeat_latency_and_memory(report):
    hold = report["json"]["scenarios"]["hold"]

    for side in ("project", "baseline"):
        assert hold[side]["held"] == 4
        assert hold[side]["calls"] > 0
        assert hold[side]["p99_ms"] >= hold[side]["p50_ms"] > 0
        assert isinstance(hold[side]["rss_per_connection_kib"], float)


def test_it_counts_cpu_per_call_over_every_server_process(report):
    meter = report["json"]["scenarios"]["meter_values"]

    assert set(meter["project"]["server_cpu_s_by_process"]) == {
        "daphne",
        "celery",
        "postgres",
        "redis",
    }
    assert set(meter["baseline"]["server_cpu_s_by_process"]) == {"baseline"}
    for side in ("project", "baseline"):
        assert meter[side]["calls"] > 0
        assert meter[side]["server_cpu_us_per_call"] > 0
    assert meter["ratio"]["server_cpu_us_per_call"] > 0
    # Left out when asked (--no-database-counts), not shown as zero.
    assert meter["project"]["commits_per_call"] is None


def test_it_accepts_the_whole_storm_and_answers_every_command(report):
    scenarios = report["json"]["scenarios"]

    for side in ("project", "baseline"):
        assert scenarios["storm"][side]["accepted"] == 4
        assert scenarios["storm"][side]["all_accepted_s"] > 0
        assert scenarios["sessions"][side]["sessions_per_s"] > 0
        assert scenarios["sessions_201"][side]["sessions_per_s"] > 0
        assert scenarios["command"][side]["answered"] == 5
        assert scenarios["command"][side]["p99_ms"] > 0


@pytest.mark.parametrize("scenario", ["meter_values", "sessions", "sessions_201", "fleet"])
def test_it_finds_everything_answered_in_the_database(report, scenario):
    project = report["json"]["scenarios"][scenario]["project"]

    assert project["answered_to_store"] > 0
    assert project["missing_in_database"] == 0
    assert project["doubled_in_database"] == 0
    assert project["left_open"] == 0
    # Exactly once: nothing more either.
    assert sum(project["stored"].values()) == project["answered_to_store"]
    assert project["stored"]["transactions"] > 0 and project["stored"]["samples"] > 0
    if scenario == "sessions_201":
        # Every session is driven to its end: Started, Updated and Ended.
        assert project["stored"]["events"] == 3 * project["stored"]["transactions"]


def test_the_fleet_runs_whole_sessions_on_both_connectors_of_every_charger(report):
    fleet = report["json"]["scenarios"]["fleet"]

    for side in ("project", "baseline"):
        assert fleet[side]["held"] == 3
        assert fleet[side]["sessions"] > 0
        # Every call is in the latencies: the slowest of them bounds the percentiles.
        assert fleet[side]["slowest_ms"] >= fleet[side]["p99_ms"] >= fleet[side]["p50_ms"] > 0
        assert fleet[side]["calls_slower_than_5s"] >= 0
    stored = fleet["project"]["stored"]
    # Each session's MeterValues carry nine samples; a session may end before its first.
    assert stored["samples"] % 9 == 0
    assert stored["transactions"] == fleet["project"]["sessions"]


def test_it_prints_the_table_with_the_baseline_beside_the_project(report):
    header = next(line for line in report["stdout"].splitlines() if line.startswith("scenario"))

    assert header.split() == ["scenario", "figure", "project", "baseline", "ratio", "target"]
    assert "server CPU per call (us)" in report["stdout"]
    assert "round trip p99 (ms)" in report["stdout"]


def test_it_drops_its_scratch_database(report):
    assert report["left_behind"] == set()


def test_it_takes_the_nearest_rank_percentile():
    values = [0.001 * n for n in range(1, 101)]

    assert percentile(values, 0.50) == pytest.approx(0.050)
    assert percentile(values, 0.99) == pytest.approx(0.099)
    assert percentile([0.5], 0.99) == 0.5
    assert percentile([], 0.5) is None


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--hold", "0"], "--hold: must be at least 1"),
        (["--fleet", "0"], "--fleet: must be at least 1"),
        (["--fleet-interval", "0"], "--fleet-interval: must be positive"),
        (
            ["--embedded", "--database-template", "cpms_template_x"],
            "--database-template: copies a PostgreSQL database; this run is on SQLite",
        ),
    ],
)
def test_it_refuses_what_it_cannot_run_naming_the_flag(arguments, says):
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert completed.returncode != 0
    assert says in completed.stderr


def test_it_spreads_the_chargers_over_the_server_processes_the_same_way_every_time():
    urls = ["ws://127.0.0.1:1/ocpp/bench/", "ws://127.0.0.1:2/ocpp/bench/"]
    worker = Worker({"urls": urls})
    ids = [f"BENCH-{n:05d}" for n in range(1, 101)]

    chosen = [worker.url_of(identity) for identity in ids]

    assert 40 <= chosen.count(urls[0]) <= 60
    assert chosen == [worker.url_of(identity) for identity in ids]


def test_it_runs_a_storm_against_several_server_processes(
    tmp_path, migrated_template, django_db_blocker
):
    run = run_bench(
        *["--only", "storm", "--storm", "6", "--workers", "1", "--servers", "2"],
        output=tmp_path,
        template=migrated_template,
        django_db_blocker=django_db_blocker,
    )
    result, left_behind = run["json"], run["left_behind"]

    assert result["project"]["server"] == "manage.py serve (daphne) x 2 processes"
    assert result["scenarios"]["storm"]["project"]["accepted"] == 6
    # Each charger's boot is committed at least once; PostgreSQL's statistics counted it.
    assert result["scenarios"]["storm"]["project"]["commits_per_charger"] >= 1
    assert sorted(p.name for p in tmp_path.glob("*-logs/project-server*.log")) == [
        "project-server-2.log",
        "project-server.log",
    ]
    assert left_behind == set()


async def test_a_storm_past_its_timeout_still_counts_the_chargers_accepted_by_then():
    class Stalling(Worker):
        async def open(self, identity):
            if identity == "BENCH-00002":
                await asyncio.sleep(60)  # never answered within the storm's timeout
            return object(), 0.01, 0.02

    worker = Stalling({"ids": ["BENCH-00001", "BENCH-00002", "BENCH-00003"], "storm_timeout": 0.5})

    result = await worker.storm()

    assert len(result["accepted_at"]) == 2
    assert result["timed_out"] is True
