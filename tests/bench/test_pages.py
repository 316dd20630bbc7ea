"""The page benchmark at a tiny size, for real, on a scratch PostgreSQL database.

No timing is asserted (the machine is shared); what must hold is that every page rendered with
status 200 and is in the JSON with its figures, that the fleet was seeded at the sizes asked,
and that the scratch database is gone afterwards.
"""

import json

import pytest
from django.conf import settings
from django.db import connection

from bench.pages import PAGE_NAMES, SCRATCH_PREFIX
from tests.helpers import child_env, database_url, run_module

# The suite's per-test bound is for quick tests; the module's fixture runs the benchmark.
pytestmark = pytest.mark.timeout(1200)


def run_pages(*args: str, env: dict | None = None):
    """The page benchmark run to its end: (completed process, scratch databases left)."""
    return run_module("bench.pages", *args, env=env or child_env(), scratch_prefix=SCRATCH_PREFIX)


@pytest.fixture(scope="module")
def report(tmp_path_factory, migrated_template, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("the page benchmark needs PostgreSQL (CI=true sets it)")
    output = tmp_path_factory.mktemp("pages")
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    completed, left_behind = run_pages(
        "--chargers", "20", "--sessions", "200", "--repeat", "2", "--output", str(output),
        "--database-template", migrated_template,
        env=child_env(DATABASE_URL=url, REDIS_URL=settings.REDIS_URL or None),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    (path,) = output.glob("pages-*.json")
    return {
        "json": json.loads(path.read_text()),
        "stdout": completed.stdout,
        "left_behind": left_behind,
    }


def test_the_json_has_every_page_and_nothing_else(report):
    assert tuple(report["json"]["pages"]) == PAGE_NAMES


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_renders_with_status_200_and_its_figures(report, page):
    row = report["json"]["pages"][page]

    assert row["status"] == 200, row["url"]
    assert row["bytes"] > 0
    assert row["queries"] > 0
    assert row["max_ms"] >= row["p95_ms"] >= row["p50_ms"] > 0
    assert row["cpu_ms"] > 0


def test_it_seeds_the_big_tenant_at_the_sizes_asked_and_a_second_tenant(report):
    fleet = report["json"]["fleet"]

    assert fleet["counts"]["chargers"] == 20
    assert fleet["counts"]["connectors"] == 40
    assert fleet["counts"]["sessions"] == 200
    assert fleet["counts"]["meter_samples"] > 0
    assert fleet["counts"]["alerts"] > 0
    assert fleet["other_counts"]["chargers"] > 0


def test_it_prints_a_row_per_page_against_the_target(report):
    lines = report["stdout"].splitlines()
    header = next(line for line in lines if line.startswith("page"))

    assert header.split() == [
        "page", "p50", "ms", "p95", "ms", "max", "ms", "cpu", "ms", "queries", "target", "status",
    ]  # fmt: skip
    for page in PAGE_NAMES:
        assert any(line.startswith(page) and "< 150" in line for line in lines), page


def test_it_drops_its_scratch_database(report):
    assert report["left_behind"] == set()


def test_it_refuses_a_size_below_one_naming_the_flag():
    completed, _ = run_pages("--chargers", "0")

    assert completed.returncode != 0
    assert "--chargers: must be at least 1" in completed.stderr


def test_it_refuses_fewer_sessions_than_chargers():
    completed, left_behind = run_pages("--chargers", "10", "--sessions", "5")

    assert completed.returncode != 0
    assert "--sessions: must be at least --chargers" in completed.stderr
    assert left_behind == set()
