import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chargers.services.demo import (
    DEMO_CHARGER_PASSWORD,
    DEMO_CHARGERS,
    DEMO_PASSWORD,
    PEOPLE,
    TENANT_SLUG,
)
from cpms.management.commands.serve import site_url_for

# OCPP versions the demo fleet speaks ("mix": odd chargers 1.6, even ones 2.0.1).
DEMO_FLEET_VERSION = "mix"
DEMO_PLUG_AND_CHARGE = "DEMO-0006"
# How long the simulated chargers may take to end their sessions and have the stops answered.
# A clean stop takes well under a second; each charger gives up on an answer after its
# response timeout (10 s), so this is only reached when the server does not answer at all.
FLEET_STOP_SECONDS = 30.0
SERVER_STOP_SECONDS = 15.0
# After the polite signal's time is up (or a second Ctrl-C): SIGTERM, then this long to SIGKILL.
KILL_AFTER_SECONDS = 5.0


class Command(BaseCommand):
    help = (
        "Run the demo: the server (with Celery inside it on the embedded defaults) and a small "
        "simulated fleet whose sessions start within a minute. Run seed_demo first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-simulator", action="store_true")

    def handle(self, *args, host, port, no_simulator, **options):
        # Ctrl-C, a plain `kill` and a closed terminal all stop the demo the same way, in order
        # (shut_down). Handling Ctrl-C here also undoes a shell's ignoring it in a background
        # job, which the children would inherit.
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, signal.default_int_handler)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        server = start_child(
            [*manage, "serve", "--host", host, "--port", str(port)],
            env=server_environment(host, port, os.environ),
        )
        fleet = None
        try:
            self.wait_for(host, port, server)
            self.banner(host, port)
            if not no_simulator:
                fleet = start_child([*manage, "simulate", *fleet_arguments(host, port)])
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo: the chargers end their sessions first...")
        finally:
            shut_down(fleet=fleet, server=server)

    def wait_for(self, host: str, port: int, server: subprocess.Popen) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(
                    f"The server exited ({server.returncode}); is port {port} "
                    "in use? Try `make demo PORT=8001`."
                )
            try:
                socket.create_connection((host, port), 0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"The server did not start listening on {host}:{port}.")

    def banner(self, host: str, port: int) -> None:
        line = "=" * 72
        self.stdout.write(
            self.style.SUCCESS(f"\n{line}\n  CPMS demo running at http://{host}:{port}/\n{line}")
        )
        self.stdout.write(f"  Log in with (password {DEMO_PASSWORD}):")
        for email, _, what in PEOPLE:
            self.stdout.write(f"    {email:<22} {what}")
        self.stdout.write(
            f"  Simulated chargers connect to ws://{host}:{port}/ocpp/{TENANT_SLUG}/"
            "DEMO-000N; sessions begin within a minute."
        )
        self.stdout.write(
            f"  Ctrl-C stops everything (the chargers end their sessions first).\n{line}\n"
        )


def fleet_arguments(host: str, port: int) -> list[str]:
    """`manage.py simulate` for the chargers seed_demo registered."""
    count = sum(len(ids) for ids in DEMO_CHARGERS.values())
    return [
        "--url",
        f"ws://{host}:{port}/ocpp/{TENANT_SLUG}/",
        "--count",
        str(count),
        "--prefix",
        "DEMO-",
        "--password",
        DEMO_CHARGER_PASSWORD,
        "--version",
        DEMO_FLEET_VERSION,
        "--session-interval",
        "30",
        "--session-duration",
        "120",
        "--meter-interval",
        "10",
        "--connectors",
        "2",
        # Half the cars speak ISO 15118, and every charger does something besides charging
        # about once every few minutes, so the demo shows every kind of message the server
        # keeps.
        "--iso15118-share",
        "0.5",
        "--incident-interval",
        "180",
        # Each charger asks the demo tenant's CA for its certificate once registered.
        "--request-certificate",
        # DEMO-0006 (2.0.1) does Plug & Charge: its cars get a contract certificate from the
        # tenant's test V2G PKI and charge under their eMAID.
        "--plug-and-charge",
        DEMO_PLUG_AND_CHARGE,
        # Some firmware updates fail, and some come back on the old version, so a firmware
        # campaign in the demo shows its health gate pausing a wave.
        "--firmware-failure-rate",
        "0.15",
        "--firmware-stale-rate",
        "0.05",
        "--download-firmware",
    ]


def server_environment(host: str, port: int, environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: the demo's, with SITE_URL naming the address it serves unless
    one is set. Chargers fetch firmware from and upload diagnostics to links built on SITE_URL;
    the default's port 8000 would send them elsewhere on `make demo PORT=8137`."""
    if environ.get("SITE_URL"):
        return dict(environ)
    return {**environ, "SITE_URL": site_url_for(host, port)}


def start_child(command: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """A child in a process group of its own.

    Ctrl-C in a terminal signals the whole foreground process group at once: the server would
    stop while the simulated chargers were still sending the stops of their sessions, and
    those sessions would stay active on the server for good. In their own groups the children
    hear only from this command, which stops them in order (shut_down).
    """
    return subprocess.Popen(  # noqa: S603 (our manage.py, our arguments)
        command,
        env=env,
        process_group=0,
        preexec_fn=functools.partial(_die_with, os.getpid()) if sys.platform == "linux" else None,
    )


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """In the child, Linux: SIGTERM it when this command dies, even of a SIGKILL, so that no
    server is left holding the port and no fleet charging into it. (In a group of its own it
    hears nothing else from a dying parent.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took
        os.kill(os.getpid(), signal.SIGTERM)


def shut_down(*, fleet: subprocess.Popen | None, server: subprocess.Popen) -> None:
    """The simulated fleet first, the server once the fleet has gone.

    The fleet's first Ctrl-C is a clean stop: every charger ends its sessions with a normal stop
    (1.6 StopTransaction, 2.0.1 TransactionEvent Ended, reason Local) and waits, bounded, for
    the answers before it disconnects. Those answers need the server.
    """
    if fleet is not None:
        stop(fleet, signal.SIGINT, FLEET_STOP_SECONDS)
    stop(server, signal.SIGTERM, SERVER_STOP_SECONDS)


def stop(process: subprocess.Popen, first: int, seconds: float) -> None:
    """Signal `first` and wait up to `seconds` for the process to end; then (or at once, on
    another Ctrl-C) SIGTERM, and SIGKILL if it is still there KILL_AFTER_SECONDS later."""
    if process.poll() is not None:
        return
    for sig, patience in ((first, seconds), (signal.SIGTERM, KILL_AFTER_SECONDS)):
        try:
            process.send_signal(sig)
            process.wait(timeout=patience)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue
    process.kill()
    process.wait()
