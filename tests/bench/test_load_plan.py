"""The load-plan benchmark at a tiny size, for real: on PostgreSQL (a copy of the migrated
template) when the suite runs on it, else on the benchmark's own scratch SQLite file.

No timing is asserted (the machine is shared); what must hold is that the site was seeded at
the size asked, every limit went out once, and a recompute with nothing changed sends none."""

import json
import subprocess
import sys

import pytest
from django.db import connection

from bench.targets import create_scratch_database, drop_scratch_database
from tests.helpers import ROOT, child_env, database_url, stop_process_group

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def report(tmp_path_factory, migrated_template, django_db_blocker):
    output = tmp_path_factory.mktemp("load-plan")
    arguments = ["--connectors", "30", "--circuits", "3", "--repeat", "3", "--output", str(output)]
    server = database = ""
    if migrated_template:
        with django_db_blocker.unblock():
            test_database = connection.settings_dict
        server = database_url(test_database)
        database = create_scratch_database(server, "cpms_loadbench_", migrated_template)
        arguments += ["--database-url", database_url({**test_database, "NAME": database})]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load_plan", *arguments],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=500)
    finally:
        stop_process_group(process)
        if database:
            drop_scratch_database(server, database)
    assert process.returncode == 0, stderr[-3000:]
    (path,) = output.glob("load-plan-*.json")
    return {"json": json.loads(path.read_text()), "stdout": stdout}


def test_the_site_is_seeded_at_the_size_asked(report):
    site = report["json"]["site"]
    assert site["connectors"] == 30 and site["circuits"] == 3
    assert site["sessions"] == 27  # 90% charging


def test_every_limit_goes_out_once_and_nothing_when_nothing_changed(report):
    data = report["json"]
    # A limit per session, and a fallback for each charger without one; the others' fallbacks
    # wait until their session holds its limit (the next run, while the site settles).
    assert data["first_recompute"]["commands_sent"] == 27 + 3
    assert data["first_recompute"]["settling_commands"] >= 27
    assert data["commands_sent_unchanged"] == {"max": 0, "total": 0, "each": [0, 0, 0]}


def test_the_table_shows_the_figures_beside_the_target(report):
    assert "recompute (read, plan, store)" in report["stdout"]
    assert "per recompute with nothing changed: 0 (target 0)" in report["stdout"]
    for key in ("allocator", "recompute", "recompute_cpu"):
        figures = report["json"][key]
        assert figures["max_ms"] >= figures["p95_ms"] >= figures["p50_ms"] > 0
