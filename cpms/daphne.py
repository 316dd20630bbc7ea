"""daphne as `manage.py serve` runs it: with the ASGI WebSocket denial response.

daphne answers every upgrade its application refuses with 403. OCPP asks for 401 when a
charger's credentials are wrong (the OCA's compliance tool checks it), and ASGI's
`websocket.http.response` extension is how an application chooses the status: it sends
`websocket.http.response.start` (with the status) and `websocket.http.response.body` instead
of `websocket.close`. daphne 4 does not offer the extension, so this server does, on its
WebSocket protocol's still-open handshake exactly as daphne's own refusal does. This module is
the only contact with daphne's internals; tests/cpms/test_daphne.py fails on an upgrade that
moves them.

It also drains the node on SIGTERM (what systemd and docker send to stop it): readiness answers
503 and new OCPP upgrades are refused with 503 at once (the proxy tries another node), every
OCPP socket is closed with 1001 (going away) once the frames it received are answered, and the
process exits when the sockets' bookkeeping is done, or after `drain_seconds` at the most. A
second SIGTERM, or SIGINT, stops at once as daphne does.

And it spares every new WebSocket a pretty-printed debug line: autobahn formats its protocol's
configuration with `pprint.pformat` for a debug message on each connection, formatted whether or
not anything logs it (~0.7 ms, a tenth of the event loop's time in a connection storm, where
every refused upgrade pays it too). The text is now made only if the line is written.
"""

from __future__ import annotations

import http
import logging
import pprint
import signal
import time
from typing import Any

from autobahn.websocket import protocol as autobahn_protocol
from autobahn.websocket.types import ConnectionDeny
from daphne.cli import CommandLineInterface as DaphneCommandLine
from daphne.server import Server as DaphneServer
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet import reactor as twisted_reactor

from cpms import draining

log = logging.getLogger(__name__)
# The installed reactor (daphne's asyncio one); Twisted's stubs type the module as an interface.
reactor: Any = twisted_reactor

DENIAL = "websocket.http.response"


# The ASGI event a drained OCPP socket's application gets, after the frames already received.
DRAIN_EVENT = {"type": "server.drain"}
GOING_AWAY = 1001
OCPP_PATH = "/ocpp/"


class Pretty:
    """`obj` pretty-printed when the message holding it is formatted, not before."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __str__(self) -> str:
        return pprint.pformat(self.obj)


autobahn_protocol.pformat = Pretty  # type: ignore[assignment]  # only ever formatted into a log line


class Server(DaphneServer):
    def run(self) -> None:
        # After daphne's (Twisted's) own handlers are installed, which stop at once.
        reactor.callWhenRunning(self._handle_sigterm)
        super().run()

    def _handle_sigterm(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(self.drain))

    def drain(self) -> None:
        if draining.draining():  # asked twice: no more patience
            self.stop()
            return
        draining.start()
        sockets = 0
        for protocol, details in list(self.connections.items()):
            if not isinstance(protocol, WebSocketProtocol) or "disconnected" in details:
                continue
            sockets += 1
            queue = getattr(protocol, "application_queue", None)
            if queue is not None and protocol.path.decode(errors="replace").startswith(OCPP_PATH):
                # Queued behind the frames received so far: the consumer answers those first.
                queue.put_nowait(DRAIN_EVENT)
            else:
                going_away(protocol)
        log.warning(
            "draining: closing %d sockets, exiting within %s s", sockets, settings.DRAIN_SECONDS
        )
        self._exit_when_drained(time.monotonic() + settings.DRAIN_SECONDS)

    def _exit_when_drained(self, deadline: float) -> None:
        """Stop once no WebSocket is left (its application has finished its bookkeeping)."""
        left = [p for p in self.connections if isinstance(p, WebSocketProtocol)]
        if not left or time.monotonic() >= deadline:
            if left:
                log.warning("drained with %d sockets still open", len(left))
            self.stop()
            return
        reactor.callLater(0.1, self._exit_when_drained, deadline)

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket":
            scope["extensions"] = {**scope.get("extensions", {}), DENIAL: {}}
        return super().create_application(protocol, scope)

    async def handle_reply(self, protocol: Any, message: dict[str, Any]) -> None:
        kind = message.get("type", "")
        if isinstance(protocol, WebSocketProtocol) and kind.startswith(DENIAL + "."):
            if kind == f"{DENIAL}.start":
                protocol.denial_status = int(message["status"])
                protocol.denial_headers = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers") or []
                ]
            elif not message.get("more_body"):
                deny(
                    protocol,
                    getattr(protocol, "denial_status", 403),
                    getattr(protocol, "denial_headers", []),
                )
            return
        if (
            isinstance(protocol, WebSocketProtocol)
            and kind == "websocket.close"
            and message.get("code") == GOING_AWAY
            and not self.connections.get(protocol, {}).get("disconnected")
        ):
            going_away(protocol)
            return
        await super().handle_reply(protocol, message)


def deny(
    protocol: WebSocketProtocol, status: int, headers: list[tuple[str, str]] | None = None
) -> None:
    """Answer the upgrade with `status` (and `headers`, a 503's Retry-After) instead of
    accepting it, as daphne's `serverReject` answers with 403. Nothing when the handshake is
    over already."""
    handshake = getattr(protocol, "handshake_deferred", None)
    if handshake is None:
        return
    del protocol.handshake_deferred
    if headers:
        # autobahn answers a ConnectionDeny through failHandshake, which takes headers but is
        # not given any: this protocol's call gets ours.
        fail = protocol.failHandshake

        def fail_with_headers(reason: str, code: int = 400, responseHeaders: Any = None) -> None:  # noqa: N803 (autobahn's name)
            fail(reason, code, [*(responseHeaders or []), *headers])

        protocol.failHandshake = fail_with_headers
    handshake.errback(ConnectionDeny(code=status, reason=http.HTTPStatus(status).phrase))
    protocol.server.protocol_disconnected(protocol)


def going_away(protocol: WebSocketProtocol) -> None:
    """Close with 1001, going away: RFC 6455 gives it to a server that goes down, but autobahn's
    sendClose allows applications 1000 and 3000-4999 only, so the frame is sent beneath it."""
    protocol.sendCloseFrame(code=GOING_AWAY, isReply=False)


class CommandLineInterface(DaphneCommandLine):
    server_class = Server
