"""Many chargers at once, and the command line that runs them."""

import argparse
import asyncio
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from chargers.simulator import Fleet, charger_ids, fleet_configs
from chargers.simulator.cli import add_arguments, build_fleet, main
from tests.chargers.simulator.fake_csms import PASSWORD, PATIENCE
from tests.chargers.simulator.helpers import FAST
from tests.helpers import child_env

ROOT = Path(__file__).resolve().parents[3]


def test_charger_ids_are_the_prefix_and_a_zero_padded_number():
    assert charger_ids("SIM-", 3) == ["SIM-0001", "SIM-0002", "SIM-0003"]
    assert charger_ids("X", 2, start=99999) == ["X099999", "X100000"]


async def test_a_fleet_brings_mixed_versions_online_at_a_bounded_connect_rate(csms):
    configs = fleet_configs(url=csms.url, count=6, version="mix", password=PASSWORD, **FAST)
    fleet = Fleet(configs, connect_rate=20)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await fleet.start()
    try:
        assert await fleet.wait_online(PATIENCE)
        # Six connects at 20 per second cannot all happen in less than 5 x 50 ms.
        assert loop.time() - began >= 0.24
    finally:
        await fleet.stop()
    boots = csms.payloads("BootNotification")
    assert sum("chargePointVendor" in b for b in boots) == 3
    assert sum("chargingStation" in b for b in boots) == 3
    assert set(csms.connects) == set(charger_ids("SIM-", 6))


async def test_a_fleet_with_its_own_sessions_stops_every_session_it_started(csms):
    configs = fleet_configs(
        url=csms.url,
        count=4,
        version="mix",
        password=PASSWORD,
        **{**FAST, "session_interval": 0.2, "session_duration": 0.3, "meter_interval": 0.1},
    )
    fleet = Fleet(configs, connect_rate=0)
    running = asyncio.create_task(fleet.run())
    # Sessions come and go on their own: wait for some to have started and metered energy
    # (a loaded machine may start all four only just before the stop), not for a time.
    await csms.until(
        lambda: fleet.stats.counts["sessions_started"] >= 4 and fleet.stats.energy_wh > 0,
        what="4 sessions and some energy",
    )
    fleet.request_stop()
    stats = await asyncio.wait_for(running, PATIENCE)

    started = len(csms.payloads("StartTransaction")) + len(
        [p for p in csms.payloads("TransactionEvent") if p["eventType"] == "Started"]
    )
    stopped = len(csms.payloads("StopTransaction")) + len(
        [p for p in csms.payloads("TransactionEvent") if p["eventType"] == "Ended"]
    )
    assert started >= 4
    # A clean stop ends every running session and delivers its last message.
    assert stopped == started == stats.counts["sessions_started"]
    assert stats.energy_wh > 0
    assert fleet.queued == 0


async def test_a_stopped_fleet_ends_its_sessions_and_has_the_stops_answered_before_it_leaves(
    csms,
):
    # What Ctrl-C does to `manage.py simulate` (and so to the demo's fleet): request_stop().
    configs = fleet_configs(url=csms.url, count=2, version="mix", password=PASSWORD, **FAST)
    fleet = Fleet(configs, connect_rate=0)
    running = asyncio.create_task(fleet.run())
    assert await fleet.wait_online(PATIENCE)
    sessions = {}
    for charger in fleet.chargers:
        for connector_id in (1, 2):
            session = await charger.start_session("SIM-TAG-0001", connector_id)
            sessions.setdefault(charger.id, []).append(session.transaction_id)

    fleet.request_stop()
    await asyncio.wait_for(running, PATIENCE)

    # The stops were answered (nothing left queued) and arrived before the socket closed.
    assert fleet.queued == 0
    closed_at = dict(csms.disconnects)
    stops = [f for f in csms.frames if f.action == "StopTransaction"]
    assert {f.charger_id for f in stops} == {"SIM-0001"}
    assert sorted(f.payload["transactionId"] for f in stops) == sorted(sessions["SIM-0001"])
    assert {f.payload["reason"] for f in stops} == {"Local"}
    ended = [
        f
        for f in csms.frames
        if f.action == "TransactionEvent" and f.payload["eventType"] == "Ended"
    ]
    assert {f.charger_id for f in ended} == {"SIM-0002"}
    transactions = [f.payload["transactionInfo"] for f in ended]
    assert sorted(t["transactionId"] for t in transactions) == sorted(sessions["SIM-0002"])
    assert {t["stoppedReason"] for t in transactions} == {"Local"}
    assert all(f.index < closed_at[f.charger_id] for f in stops + ended)
    assert len(csms.disconnects) == 2


async def test_the_simulate_command_runs_a_mixed_fleet_until_ctrl_c_and_prints_a_summary(csms):
    arguments = [
        "--url",
        csms.url,
        "--count",
        "2",
        "--version",
        "mix",
        "--password",
        PASSWORD,
        "--session-interval",
        "0.2",
        "--session-duration",
        "0.3",
        "--meter-interval",
        "0.1",
        "--connect-rate",
        "0",
        "--iso15118-share",
        "1",
        "--incident-interval",
        "0.1",
        "--seed",
        "7",
    ]
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "manage.py", "simulate", *arguments),
        cwd=ROOT,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Read as it comes, so a full pipe never stalls the simulator.
    output = asyncio.gather(process.stdout.read(), process.stderr.read())
    incidents = {"SecurityEventNotification", "DataTransfer", "SignCertificate"}
    try:
        # Every 2.0.1 car speaks ISO 15118; both chargers do things on their own besides
        # charging. Once the CSMS has seen that, Ctrl-C (its first: a clean stop).
        await csms.until(
            lambda: (
                csms.payloads("NotifyEVChargingNeeds", charger_id="SIM-0002")
                and {f.charger_id for f in csms.frames if f.action in incidents}
                == {"SIM-0001", "SIM-0002"}
            ),
            what="sessions and incidents from both chargers",
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(output, PATIENCE)
        await asyncio.wait_for(process.wait(), PATIENCE)

    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "SIM-0001 booted: Accepted (OCPP 1.6" in text
    assert "SIM-0002 booted: Accepted (OCPP 2.0.1" in text
    assert "session-started" in text and "session-stopped" in text
    assert "sessions:" in text and "round trip:" in text
    assert {"SIM-0001", "SIM-0002"} <= set(csms.connects)


def test_bad_options_are_refused_with_exit_status_two(capsys):
    assert main(["--url", "http://127.0.0.1:1/ocpp/x/"]) == 2
    assert main(["--url", "ws://127.0.0.1:1/ocpp/x/", "--fault-rate", "2"]) == 2
    assert "--fault-rate" in capsys.readouterr().err
    assert main(["--url", "ws://127.0.0.1:1/ocpp/x/", "--iso15118-share", "-0.1"]) == 2
    assert "--iso15118-share" in capsys.readouterr().err
    assert main(["--url", "ws://127.0.0.1:1/ocpp/x/", "--incident-interval", "-1"]) == 2
    assert "negative" in capsys.readouterr().err


def test_the_simulator_runs_without_django_against_any_url():
    # Port 9 (discard) on the loopback: nothing listens, so every attempt fails quickly.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, runpy; sys.argv = ['simulator', '--url', 'ws://127.0.0.1:9/ocpp/x/', "
        "'--duration', '0.5', '--quiet']\n"
        "try:\n    runpy.run_module('chargers.simulator', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not [m for m in sys.modules if m.endswith('.models')], 'models imported'\n"
        "    raise\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert done.returncode == 0, done.stderr
    assert "connects (1 failed" in done.stdout or "failed" in done.stdout
    assert "sessions: 0 started" in done.stdout


def test_a_charger_started_again_later_reads_on_from_a_higher_register():
    from datetime import timedelta

    from chargers.simulator.connectors import wall_clock_wh
    from chargers.simulator.events import now_utc

    now = now_utc()

    assert wall_clock_wh(now + timedelta(hours=1)) > wall_clock_wh(now)


def test_plug_and_charge_is_given_to_the_named_201_chargers_only():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = parser.parse_args(
        ["--url", "ws://127.0.0.1:1/ocpp/t/", "--count", "4", "--version", "mix"]
        + ["--plug-and-charge", "SIM-0001,SIM-0002"]
    )

    fleet = build_fleet(options, io.StringIO())

    chosen = {c.config.charger_id: c.config.plug_and_charge for c in fleet.chargers}
    # SIM-0001 speaks 1.6, which has no Plug & Charge.
    assert chosen == {"SIM-0001": False, "SIM-0002": True, "SIM-0003": False, "SIM-0004": False}
    assert fleet.chargers[1].contract.emaid.startswith("DE-SIM-C")
