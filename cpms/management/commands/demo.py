import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chargers.services.demo import (
    DEMO_CHARGER_PASSWORD,
    DEMO_CHARGERS,
    DEMO_PASSWORD,
    PEOPLE,
    TENANT_SLUG,
)

# OCPP versions the demo fleet speaks.
DEMO_FLEET_VERSION = "mix"


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
        # A plain `kill` must stop the children too, not only this process.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        server = subprocess.Popen([*manage, "serve", "--host", host, "--port", str(port)])  # noqa: S603
        processes = [server]
        try:
            self.wait_for(host, port, server)
            self.banner(host, port)
            if not no_simulator:
                count = sum(len(ids) for ids in DEMO_CHARGERS.values())
                processes.append(
                    subprocess.Popen(  # noqa: S603 (our own manage.py, our arguments)
                        [
                            *manage,
                            "simulate",
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
                            # Half the cars speak ISO 15118, and every charger does something
                            # besides charging about once every few minutes, so the demo shows
                            # every kind of message the server keeps.
                            "--iso15118-share",
                            "0.5",
                            "--incident-interval",
                            "180",
                        ]
                    )
                )
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo...")
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

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
        self.stdout.write(f"  Ctrl-C stops everything.\n{line}\n")
