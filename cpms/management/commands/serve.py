import os
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cpms.collector import calm_the_garbage_collector

# Connections the kernel holds for daphne until it accepts them; Twisted's default is 50. A fleet
# reconnecting at once overflows 50 within milliseconds, and each SYN dropped then is sent again
# by the charger's kernel only after 1, then 3, then 7 s: a storm's slowest replies, and its
# connect timeouts, before any of our work. The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 4096


def listen_endpoint(host: str, port: int) -> str:
    """daphne's listening socket as a Twisted endpoint, the one way to give it a backlog
    (`-b`/`-p` build the same string without one; `:` in an IPv6 address is escaped)."""
    interface = host.strip("[]").replace(":", r"\:")
    return f"tcp:port={port}:interface={interface}:backlog={LISTEN_BACKLOG}"


def site_url_for(host: str, port: int) -> str:
    """The public URL of a server bound to `host` and `port` when SITE_URL is not set: chargers
    fetch firmware from and upload diagnostics to links built on it, so it must name the port
    served. A wildcard bind names this machine, which other hosts can reach."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (a bind address read, not made)
        host = socket.getfqdn()
    address = f"[{host}]" if ":" in host else host
    return f"http://{address}:{port}"


class Command(BaseCommand):
    help = (
        "Serve HTTP and OCPP WebSockets with daphne, configured for chargers that stay "
        "connected for months. On the embedded defaults it also runs the Celery worker and beat "
        "in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--ping-interval",
            type=int,
            default=60,
            help="Seconds of silence before a WebSocket ping (default 60).",
        )
        parser.add_argument(
            "--ping-timeout",
            type=int,
            default=120,
            help="Seconds to wait for the pong before closing (default 120).",
        )
        parser.add_argument(
            "--max-message-size",
            type=int,
            default=1024 * 1024,
            help="Largest accepted WebSocket message in bytes (default 1 MiB).",
        )
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="Gone: set TRUSTED_PROXIES to the reverse proxies' addresses instead.",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not run the embedded Celery worker even without REDIS_URL.",
        )

    def handle(
        self,
        *args,
        host,
        port,
        ping_interval,
        ping_timeout,
        max_message_size,
        proxy_headers,
        no_worker,
        **options,
    ):
        from cpms.daphne import CommandLineInterface

        if settings.EMBEDDED and not no_worker:
            from cpms.embedded import start_worker_threads

            start_worker_threads()
        argv = [
            "-e",
            listen_endpoint(host, port),
            # daphne's default closes every socket after a day; chargers stay for months.
            "--websocket_timeout",
            "-1",
            # A fleet reconnecting after a restart queues its handshakes; 5 s (daphne's default)
            # turns a busy minute into a storm of refusals and retries.
            "--websocket_connect_timeout",
            "30",
            "--ping-interval",
            str(ping_interval),
            "--ping-timeout",
            str(ping_timeout),
            "--websocket-max-message-size",
            str(max_message_size),
            "--websocket-max-frame-size",
            str(max_message_size),
            "--application-close-timeout",
            "15",
        ]
        if proxy_headers:
            # daphne's own proxy headers believe X-Forwarded-For from anyone, who could then
            # pass for a trusted proxy; cpms.proxies believes them from TRUSTED_PROXIES only.
            raise CommandError(
                "--proxy-headers is gone: set TRUSTED_PROXIES to the addresses of the reverse "
                "proxies instead (deploy/README.md)."
            )
        # Django's -v: daphne's access log of every request and socket only from 2 upwards.
        argv += ["-v", "1" if options.get("verbosity", 1) >= 2 else "0"]
        argv.append("cpms.asgi:application")
        import cpms.asgi  # noqa: F401 (daphne imports it next; loaded here, it is frozen too)

        if not os.environ.get("SITE_URL"):
            # Links follow the port served (the default names port 8000), in this process (the
            # embedded worker's too) and in any child it starts.
            settings.SITE_URL = os.environ["SITE_URL"] = site_url_for(host, port)
        calm_the_garbage_collector()
        CommandLineInterface().run(argv)
