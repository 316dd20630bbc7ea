"""daphne as `manage.py serve` runs it: with the ASGI WebSocket denial response.

daphne answers every upgrade its application refuses with 403. OCPP asks for 401 when a
charger's credentials are wrong (the OCA's compliance tool checks it), and ASGI's
`websocket.http.response` extension is how an application chooses the status: it sends
`websocket.http.response.start` (with the status) and `websocket.http.response.body` instead
of `websocket.close`. daphne 4 does not offer the extension, so this server does, on its
WebSocket protocol's still-open handshake exactly as daphne's own refusal does. This module is
the only contact with daphne's internals; tests/cpms/test_daphne.py fails on an upgrade that
moves them.
"""

from __future__ import annotations

import http
from typing import Any

from autobahn.websocket.types import ConnectionDeny
from daphne.cli import CommandLineInterface as DaphneCommandLine
from daphne.server import Server as DaphneServer
from daphne.ws_protocol import WebSocketProtocol

DENIAL = "websocket.http.response"


class Server(DaphneServer):
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


class CommandLineInterface(DaphneCommandLine):
    server_class = Server
