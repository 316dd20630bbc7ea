"""The project's ASGI application served inside the test process, on the test's own event loop.

On the embedded defaults the channel layer is Channels' in-memory layer: a real layer, but only
within one process. A command sent by this process (by a test, or by a page or API view the
test calls) reaches a charger's consumer only if that consumer runs here too, and in the same
event loop, as the in-memory layer's queues belong to one loop. So the OCPP sockets are served
here, through the same `cpms.asgi.application` daphne serves, by a small bridge from
`websockets`' server to ASGI (the WebSocket part of the ASGI spec, as `manage.py serve`'s
daphne speaks it: a close before the accept refuses the upgrade with 403, the denial response
extension with its own status and headers). Nothing else of daphne is stood in for: the
cross-process path (daphne in a child process, Redis between) is what CI=true runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import http
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

# As `manage.py serve` configures daphne.
MAX_MESSAGE_SIZE = 1024 * 1024
CONNECT_TIMEOUT = 30
APPLICATION_CLOSE_TIMEOUT = 15


@dataclass
class Socket:
    """One connection's ASGI application instance and what it has said so far."""

    inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    decided: asyncio.Future | None = None  # the accept (its message) or a refusal (None)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    instance: asyncio.Task | None = None
    subprotocol: str | None = None
    denial: int | None = None  # the status of a denial response, once it has started
    denial_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class InProcessServer:
    """`await start()`, then chargers connect to `url`; `await stop()` closes every socket and
    waits until each application instance has finished what its disconnect does."""

    def __init__(self, application):
        self.application = application
        self.sockets: dict[ServerConnection, Socket] = {}
        self.server: Server | None = None
        self.url = ""
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> str:
        self.loop = asyncio.get_running_loop()
        # A context of its own, as a server process has: nothing the test has set (a tenant's
        # scope, say) reaches the sockets' tasks.
        self.server = await self.loop.create_task(self._listen(), context=contextvars.Context())
        port = next(iter(self.server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self.url

    async def _listen(self) -> Server:
        return await serve(
            self._serve,
            "127.0.0.1",
            0,
            process_request=self._open,
            select_subprotocol=lambda connection, offered: self.sockets[connection].subprotocol,
            compression=None,
            open_timeout=CONNECT_TIMEOUT,
            max_size=MAX_MESSAGE_SIZE,
        )

    async def stop(self) -> None:
        if self.server is None:
            return
        server, self.server = self.server, None
        server.close()  # closes the open sockets (1001); their handlers deliver the disconnect
        await server.wait_closed()
        # Instances of upgrades that never completed have nobody to tell them; end them.
        leftovers = [
            s.instance for s in self.sockets.values() if s.instance and not s.instance.done()
        ]
        for socket in self.sockets.values():
            socket.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})
        await self._finish(leftovers)

    @staticmethod
    async def _finish(instances) -> None:
        if not instances:
            return
        _, pending = await asyncio.wait(instances, timeout=APPLICATION_CLOSE_TIMEOUT)
        for instance in pending:
            instance.cancel()
        await asyncio.gather(*instances, return_exceptions=True)

    async def _open(self, connection: ServerConnection, request: Request):
        """Start the connection's application instance and let it decide on the upgrade."""
        target = urlsplit(request.path)
        offered = [
            name.strip()
            for header in request.headers.get_all("Sec-WebSocket-Protocol")
            for name in header.split(",")
            if name.strip()
        ]
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": unquote(target.path),
            "raw_path": target.path.encode("latin-1"),
            "query_string": target.query.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.raw_items()
            ],
            "client": list(connection.remote_address[:2]),
            "server": list(connection.local_address[:2]),
            "subprotocols": offered,
            "extensions": {"websocket.http.response": {}},
        }
        socket = self.sockets[connection] = Socket(decided=self.loop.create_future())
        socket.inbox.put_nowait({"type": "websocket.connect"})

        async def send(message: dict) -> None:
            kind = message["type"]
            if kind == "websocket.http.response.start":
                socket.denial = message["status"]
                socket.denial_headers = list(message.get("headers") or [])
                return
            if not socket.decided.done():
                socket.decided.set_result(message if kind == "websocket.accept" else None)
                return
            await socket.opened.wait()
            if kind == "websocket.send":
                text = message.get("text")
                await connection.send(text if text is not None else message["bytes"])
            elif kind == "websocket.close":
                await connection.close(message.get("code", 1000), message.get("reason") or "")

        socket.instance = asyncio.create_task(self.application(scope, socket.inbox.get, send))
        await asyncio.wait({socket.decided, socket.instance}, return_when=asyncio.FIRST_COMPLETED)
        accept = socket.decided.result() if socket.decided.done() else None
        if accept is None:
            # Refused (or the application ended without a word): with the status it chose,
            # else daphne's 403.
            socket.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})
            await self._finish([socket.instance])
            del self.sockets[connection]
            status = http.HTTPStatus(socket.denial or http.HTTPStatus.FORBIDDEN)
            response = connection.respond(status, f"{status.phrase}\n")
            for name, value in socket.denial_headers:
                response.headers[name.decode("latin-1")] = value.decode("latin-1")
            return response
        socket.subprotocol = accept.get("subprotocol")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        """Frames in as `websocket.receive`, the end as `websocket.disconnect`."""
        socket = self.sockets[connection]
        socket.opened.set()
        try:
            async for frame in connection:
                key = "text" if isinstance(frame, str) else "bytes"
                socket.inbox.put_nowait({"type": "websocket.receive", key: frame})
        except ConnectionClosed:
            pass
        finally:
            code = connection.close_code or 1006
            socket.inbox.put_nowait({"type": "websocket.disconnect", "code": code})
            await self._finish([socket.instance])
            self.sockets.pop(connection, None)
