"""The suite's own process handling: nothing a test starts outlives it."""

import os
import subprocess

import pytest

from tests.helpers import (
    POSTGRES_ADMIN_URL,
    require_production_parts,
    run_module,
    scratch_databases,
    stop_process_group,
)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stopping_a_process_group_ends_the_children_its_leader_started():
    # A leader that starts a child which outlives it, as a server's worker would.
    process = subprocess.Popen(
        ["sh", "-c", "sleep 600 & wait"], start_new_session=True, stdout=subprocess.DEVNULL
    )

    stop_process_group(process)

    assert process.returncode is not None
    assert not group_alive(process.pid)


def test_a_failed_module_run_leaves_no_scratch_database_behind(tmp_path):
    require_production_parts(pytest)
    script = tmp_path / "fails.py"
    script.write_text(
        "import psycopg, sys\n"
        f"with psycopg.connect({POSTGRES_ADMIN_URL!r}, autocommit=True) as conn:\n"
        "    conn.execute('CREATE DATABASE cpms_helpertest_left')\n"
        "sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    completed, left_behind = run_module("fails", env=env, scratch_prefix="cpms_helpertest_")

    assert completed.returncode == 3
    assert left_behind == {"cpms_helpertest_left"}
    assert scratch_databases("cpms_helpertest_") == set()
