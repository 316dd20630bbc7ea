"""The command line of the simulator, shared by `manage.py simulate` and
`python -m chargers.simulator` (which needs no Django settings at all)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from chargers.simulator.config import DEFAULT_ID_TAGS
from chargers.simulator.events import Output, Reporter, Stats
from chargers.simulator.fleet import Fleet, fleet_configs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--url",
        required=True,
        help="CSMS endpoint without the charger id, e.g. ws://127.0.0.1:8000/ocpp/demo/",
    )
    add("--count", type=int, default=1, help="number of chargers (default 1)")
    add("--prefix", default="SIM-", help="charger id prefix (default SIM-); ids are SIM-0001...")
    add("--start", type=int, default=1, help="number of the first charger (default 1)")
    add("--password", help="Basic auth password of every charger (16-40 characters)")
    add(
        "--password-file",
        type=Path,
        help="lines of 'charger-id password', overriding --password per charger",
    )
    add(
        "--version",
        dest="ocpp_version",
        choices=("1.6", "2.0.1", "mix"),
        default="1.6",
        help="OCPP version; mix alternates 1.6 and 2.0.1 (default 1.6)",
    )
    add("--connectors", type=int, default=2, help="connectors (EVSEs) per charger (default 2)")
    add(
        "--session-interval",
        type=float,
        default=300.0,
        help="seconds a connector stays idle between sessions; 0: no sessions of its own "
        "(default 300)",
    )
    add(
        "--session-duration",
        type=float,
        default=None,
        help="mean seconds a session lasts (default: the session interval)",
    )
    add(
        "--meter-interval",
        type=float,
        default=60.0,
        help="seconds between meter samples in a session (default 60)",
    )
    add(
        "--heartbeat-interval",
        type=float,
        default=None,
        help="seconds between heartbeats (default: what BootNotification returns)",
    )
    add("--duration", type=float, default=0.0, help="seconds to run; 0: until Ctrl-C (default)")
    add(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of sessions ended by a connector fault, 0-1 (default 0)",
    )
    add("--fault-duration", type=float, default=60.0, help="seconds a fault lasts (default 60)")
    add(
        "--firmware-failure-rate",
        type=float,
        default=0.0,
        help="share of firmware updates that fail, 0-1 (default 0)",
    )
    add(
        "--firmware-stale-rate",
        type=float,
        default=0.0,
        help="share of firmware updates that report Installed but boot on the old version, 0-1 "
        "(default 0)",
    )
    add(
        "--download-firmware",
        action="store_true",
        help="fetch firmware images from the URL the CSMS names (HTTP(S)), as chargers do",
    )
    add(
        "--iso15118-share",
        type=float,
        default=0.0,
        help="share of cars that speak ISO 15118 (2.0.1: charging needs, Plug & Charge), 0-1 "
        "(default 0)",
    )
    add(
        "--plug-and-charge",
        default="",
        metavar="IDS",
        help="comma-separated ids of 2.0.1 chargers (or 'all') whose cars do Plug & Charge: "
        "a contract certificate installed through the CSMS's built-in test V2G PKI, OCSP, "
        "Authorize with it, sessions under the eMAID",
    )
    add(
        "--incident-interval",
        type=float,
        default=0.0,
        help="mean seconds between the things a charger does on its own besides charging: "
        "security events, vendor data, certificate renewals, local limits; 0: none (default)",
    )
    add(
        "--connect-rate",
        type=float,
        default=20.0,
        help="connection attempts per second across the fleet; 0: no limit (default 20)",
    )
    add(
        "--id-tags",
        help=f"comma-separated id tags for sessions (default {DEFAULT_ID_TAGS[0]}..."
        f"{DEFAULT_ID_TAGS[-1]})",
    )
    add(
        "--request-certificate",
        action="store_true",
        help="once registered, ask the CSMS to sign a certificate for a new key (SignCertificate)",
    )
    add(
        "--client-certificate",
        action="store_true",
        help="security profile 3 on wss://: once the CSMS signed its certificate, reconnect "
        "presenting it instead of the password",
    )
    add("--server-ca", default="", help="a CA file (PEM) to check the CSMS's TLS certificate by")
    add("--max-power", type=float, default=22080.0, help="charger power in W (default 22080)")
    add(
        "--response-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for a CSMS answer (default 10)",
    )
    add(
        "--reconnect-max",
        type=float,
        default=60.0,
        help="longest back-off between reconnects in seconds (default 60)",
    )
    add(
        "--boot-on-reconnect",
        action="store_true",
        help="send BootNotification after every reconnect, not only after a (re)boot",
    )
    add(
        "--no-validate",
        action="store_true",
        help="skip JSON schema validation of our own messages (saves CPU in benchmarks)",
    )
    add("--seed", help="seed for repeatable runs")
    add("--quiet", action="store_true", help="print only the summary")


def _read_passwords(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    passwords = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.lstrip().startswith("#"):
            passwords[parts[0]] = parts[1]
    return passwords


def _check(options) -> str | None:
    """What is wrong with the options, or None."""
    if urlsplit(options.url).scheme not in ("ws", "wss"):
        return "--url must start with ws:// or wss://"
    if options.count < 1:
        return "--count must be at least 1"
    if options.connectors < 1:
        return "--connectors must be at least 1"
    for name in ("fault_rate", "firmware_failure_rate", "firmware_stale_rate", "iso15118_share"):
        if not 0.0 <= getattr(options, name) <= 1.0:
            return f"--{name.replace('_', '-')} must be between 0 and 1"
    intervals = (options.meter_interval, options.session_interval, options.incident_interval)
    if min(intervals) < 0 or options.duration < 0:
        return "intervals and durations cannot be negative"
    return None


def build_fleet(options, stream: Output) -> Fleet:
    id_tags = tuple(t.strip() for t in (options.id_tags or "").split(",") if t.strip())
    configs = fleet_configs(
        url=options.url,
        count=options.count,
        prefix=options.prefix,
        start=options.start,
        version=options.ocpp_version,
        password=options.password,
        passwords=_read_passwords(options.password_file),
        connectors=options.connectors,
        session_interval=options.session_interval,
        session_duration=options.session_duration,
        meter_interval=options.meter_interval,
        heartbeat_interval=options.heartbeat_interval,
        fault_rate=options.fault_rate,
        fault_duration=options.fault_duration,
        firmware_failure_rate=options.firmware_failure_rate,
        firmware_stale_rate=options.firmware_stale_rate,
        download_firmware=options.download_firmware,
        iso15118_share=options.iso15118_share,
        incident_interval=options.incident_interval,
        request_certificate=options.request_certificate,
        client_certificate=options.client_certificate,
        server_ca=options.server_ca,
        max_power_w=options.max_power,
        response_timeout=options.response_timeout,
        reconnect_max=options.reconnect_max,
        boot_on_reconnect=options.boot_on_reconnect,
        validate=not options.no_validate,
        seed=options.seed,
        **({"id_tags": id_tags} if id_tags else {}),
    )
    chosen = {c.strip() for c in (options.plug_and_charge or "").split(",") if c.strip()}
    for config in configs:
        if config.version == "2.0.1" and ("all" in chosen or config.charger_id in chosen):
            config.plug_and_charge = True
    return Fleet(
        configs,
        connect_rate=options.connect_rate,
        reporter=Reporter(stream, quiet=options.quiet),
    )


async def run_fleet(options, stream: Output) -> Stats:
    fleet = build_fleet(options, stream)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    interrupts = 0

    def interrupted() -> None:
        # The first Ctrl-C stops cleanly (sessions end, queues drain); a second one at once.
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            stream.write("stopping: ending sessions and delivering queued messages...\n")
            fleet.request_stop()
        elif main is not None:
            main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, interrupted)
    until = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
    stream.write(
        f"simulating {options.count} charger(s), OCPP {options.ocpp_version}, against "
        f"{options.url} {until}\n"
    )
    stream.flush()
    try:
        stats = await fleet.run(options.duration)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    if fleet.queued:
        stream.write(f"{fleet.queued} message(s) were still queued at the end\n")
    return stats


def quiet_libraries() -> None:
    # The ocpp library logs every frame at INFO and every CALLERROR with a traceback; the
    # simulator reports what matters itself, one line per event.
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def run(options, stream: Output = sys.stdout) -> int:
    """Run the simulator as the options say; returns an exit status."""
    problem = _check(options)
    if problem:
        sys.stderr.write(problem + "\n")
        return 2
    quiet_libraries()
    try:
        stats = asyncio.run(run_fleet(options, stream))
    except asyncio.CancelledError:
        stream.write("stopped at once\n")
        return 130
    for line in stats.summary_lines():
        stream.write(line + "\n")
    stream.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chargers.simulator",
        description="Simulated OCPP 1.6 / 2.0.1 chargers against any CSMS.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
