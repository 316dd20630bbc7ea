"""Admission control: a bound on the WebSocket handshakes one server process works on at once.

After a restart a whole fleet reconnects within seconds. Every handshake waits for the database
(the charger's credentials, its connection record); queued beyond what the process gets through
in a second or two, the last ones would be answered after their chargers had given up, the work
wasted while each of them retries. Past the bound (`OCPP_MAX_HANDSHAKES_IN_PROGRESS`) a handshake
is refused at once with 503 and a Retry-After, before any database work and without a refusal
row: a flood must stay cheap, so it costs a counter (`metrics.ADMISSION_REFUSALS`).

The count lives in the process's event loop, which every socket's `connect()` runs on: no lock.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from django.conf import settings

from chargers.ocpp import metrics

Headers = Sequence[tuple[bytes, bytes]]


class Handshakes:
    """The handshakes this process is working on (from `connect()` to the accept or refusal)."""

    def __init__(self) -> None:
        self.in_progress = 0

    def full(self) -> bool:
        bound = settings.OCPP_MAX_HANDSHAKES_IN_PROGRESS
        return bool(bound) and self.in_progress >= bound

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """Whether a handshake may go on (it holds its slot until the block ends); a refused one
        is counted."""
        if self.full():
            metrics.ADMISSION_REFUSALS.inc()
            yield False
            return
        self.in_progress += 1
        try:
            yield True
        finally:
            self.in_progress -= 1


handshakes = Handshakes()


def retry_after() -> int:
    """Seconds a refused charger is asked to wait: the setting plus up to as much again, at
    random, so that a refused storm comes back spread out rather than all at once."""
    base: int = settings.OCPP_ADMISSION_RETRY_AFTER
    return base + random.randint(0, base)  # noqa: S311 (spreading retries, not a secret)


async def deny(send: Callable[[Any], Awaitable[None]], status: int, headers: Headers = ()) -> None:
    """Answer a WebSocket upgrade with an HTTP `status` (ASGI's denial response)."""
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": b"", "more_body": False})


def retry_headers() -> Headers:
    return [(b"retry-after", str(retry_after()).encode())]


class Door:
    """In front of the OCPP consumer: past the bound, the upgrade is refused (503, Retry-After)
    before a consumer is built for it, so that a storm's refusals cost the server little more
    than parsing them. The consumer's `connect()` checks again as it takes its slot."""

    def __init__(self, application: Callable[..., Awaitable[None]]) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        can_deny = "websocket.http.response" in (scope.get("extensions") or {})
        if can_deny and handshakes.full():
            metrics.ADMISSION_REFUSALS.inc()
            await receive()  # the upgrade request, websocket.connect
            await deny(send, 503, retry_headers())
            return
        await self.application(scope, receive, send)
