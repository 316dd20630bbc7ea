"""The charger's WebSocket to the CSMS: connecting with HTTP Basic auth on the upgrade (or, for
security profile 3, its own TLS client certificate),
reconnecting with back-off, falling silent on request, and one CALL at a time over it.

A new library ChargePoint is made for every connection (see routing.py); what the charger knows
lives in the charger and survives reconnects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from chargers.simulator.state import Offline, describe

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


# A busy server's wait is honoured up to this; beyond, the charger's own back-off applies.
MOST_RETRY_AFTER = 300.0


def retry_after(status: int, header: str | None) -> float | None:
    """The seconds a 503 (busy) answer asks a charger to wait (its Retry-After in seconds), or
    None when the answer is a refusal or names no usable wait."""
    if status != 503 or not header:
        return None
    try:
        seconds = float(header)
    except ValueError:  # an HTTP date: chargers are not asked that way by this CSMS
        return None
    return min(max(seconds, 0.0), MOST_RETRY_AFTER)


class Link:
    """One WebSocket as the library's ChargePoint sees it, with the charger's silence applied."""

    def __init__(self, connection: Connection, ws):
        self.connection = connection
        self.ws = ws
        self.cp: Any = None  # the ocpp library's ChargePoint (the library has no types)
        self.inflight: set[asyncio.Future] = set()
        self.open = True

    async def send(self, message: str) -> None:
        if not self.connection.silent:
            await self.ws.send(message)

    async def recv(self) -> str:
        while True:
            message = await self.ws.recv()
            # A silent charger ignores commands (CALLs, type 2); answers to calls it made
            # before falling silent still arrive, so they do not time out later.
            if not (self.connection.silent and message.lstrip().startswith("[2")):
                return message


class Connection:
    def __init__(self, charger: SimulatedCharger, rate_limiter=None):
        self.charger = charger
        self.config = charger.config
        self.rate_limiter = rate_limiter
        # Both can be changed by the CSMS while the charger runs; used from the next connection.
        self.password = charger.config.password
        self.ping_interval = charger.config.ping_interval
        self.link: Link | None = None
        self._silent_until = 0.0
        self._backoff_attempt = 0
        # Seconds a busy CSMS asked us to wait before the next attempt (HTTP 503 Retry-After).
        self._retry_after: float | None = None

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.open

    @property
    def silent(self) -> bool:
        return time.monotonic() < self._silent_until

    def _tls(self) -> ssl.SSLContext | None:
        """wss://: the server checked against `server_ca` (or the system's CAs), and with
        profile 3 the charger's own certificate, once the CSMS signed one."""
        if not self.config.endpoint.startswith("wss:"):
            return None
        context = ssl.create_default_context(cafile=self.config.server_ca or None)
        own = self.charger.certificates.tls_identity() if self.config.client_certificate else None
        if own is not None:
            with tempfile.TemporaryDirectory() as directory:
                chain, key = Path(directory, "chain.pem"), Path(directory, "key.pem")
                chain.write_text(own[0])
                key.write_text(own[1])
                context.load_cert_chain(chain, key)
        return context

    def _presents_certificate(self) -> bool:
        return (
            self.config.client_certificate
            and self.config.endpoint.startswith("wss:")
            and self.charger.certificates.tls_identity() is not None
        )

    def _credentials(self) -> dict[str, str]:
        # Profile 3 authenticates by the certificate alone.
        if self.password is None or self._presents_certificate():
            return {}
        token = base64.b64encode(f"{self.charger.id}:{self.password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}

    async def run_once(self) -> None:
        """Connect, and live on the connection until it closes (or fail to connect)."""
        charger = self.charger
        if self.rate_limiter is not None:
            await self.rate_limiter.wait()
        if charger.stopping:
            return
        try:
            ws = await connect(
                self.config.endpoint,
                subprotocols=[Subprotocol(self.config.subprotocol)],
                additional_headers=self._credentials(),
                open_timeout=self.config.open_timeout,
                ping_interval=self.ping_interval or None,
                ping_timeout=self.ping_interval or None,
                close_timeout=2,
                proxy=None,
                ssl=self._tls(),
                user_agent_header=f"{self.config.vendor}/{charger.firmware_version}",
            )
        except InvalidStatus as error:
            status = error.response.status_code
            self._retry_after = retry_after(status, error.response.headers.get("Retry-After"))
            if self._retry_after is not None:
                # The CSMS is busy (admission control), not refusing this charger.
                charger.stats.add("busy")
                charger.events.add("busy", f"HTTP {status}; retrying in {self._retry_after:g} s")
                return
            charger.stats.add("refused")
            charger.events.add("refused", f"HTTP {status} on the upgrade")
            return
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            charger.stats.add("connect_failures")
            charger.events.add("connect-failed", describe(error))
            return
        if charger.winding_down:
            # stop() or a reboot came while the handshake was in flight.
            await ws.close()
            return
        if ws.subprotocol != self.config.subprotocol:
            charger.stats.add("refused")
            charger.events.add("refused", f"the CSMS did not agree to {self.config.subprotocol}")
            await ws.close()
            return
        await self._live(ws)

    async def _live(self, ws) -> None:
        charger = self.charger
        link = Link(self, ws)
        link.cp = charger._make_cp(link)
        self.link = link
        charger.stats.add("connects")
        charger.notify()
        reader = asyncio.get_running_loop().create_task(link.cp.start())
        lifecycle = charger.spawn(charger._lifecycle(link))
        why = "connection closed"
        try:
            await reader
        except ConnectionClosed as error:
            why = f"connection closed ({error.rcvd.code if error.rcvd else 'no close frame'})"
        except Exception as error:  # a bug in a handler must not end the charger's life
            why = f"reader failed: {error!r}"
        finally:
            link.open = False
            if self.link is link:
                self.link = None
            for call in list(link.inflight):
                call.cancel()
            charger.outbox.drop_volatile()
            lifecycle.cancel()
            reader.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            charger.notify()
        charger.stats.add("disconnects")
        if not charger.winding_down:
            charger.events.add("disconnected", f"{why}; {charger.queued} message(s) queued")

    async def close(self) -> None:
        link = self.link
        if link is not None:
            with contextlib.suppress(Exception):
                await link.ws.close()

    async def back_off(self) -> None:
        """Wait before the next attempt: as long as a busy CSMS asked (Retry-After), else
        longer after each failed one (reset once booted)."""
        if self._retry_after is not None:
            delay, self._retry_after = self._retry_after, None
            await self.charger.wait_until(lambda: self.charger.winding_down, delay)
            return
        self._backoff_attempt = min(self._backoff_attempt + 1, 30)
        ceiling = min(
            self.config.reconnect_max, self.config.reconnect_min * 2 ** (self._backoff_attempt - 1)
        )
        # Half fixed, half random: spreads a fleet's reconnects after a server restart.
        delay = self.charger.rng.uniform(ceiling / 2, ceiling)
        await self.charger.wait_until(lambda: self.charger.winding_down, delay)

    def reset_back_off(self) -> None:
        self._backoff_attempt = 0

    def go_silent(self, seconds: float) -> None:
        self._silent_until = time.monotonic() + seconds
        asyncio.get_running_loop().call_later(seconds, self._silence_over)

    def _silence_over(self) -> None:
        if not self.silent:
            self.charger.events.add("talking", "silence over")
            self.charger.registration.kick_heartbeat()
            self.charger.notify()

    async def call(self, payload, *, registered: bool = True):
        """One CALL on the current connection; Offline if there is none to use."""
        charger = self.charger
        link = self.link
        if link is None or not link.open or self.silent:
            raise Offline
        if registered and not charger.registration.accepted:
            raise Offline
        started = time.monotonic()
        call = asyncio.ensure_future(
            link.cp.call(payload, suppress=False, skip_schema_validation=not self.config.validate)
        )
        link.inflight.add(call)
        try:
            result = await call
        except asyncio.CancelledError:
            # The connection dropped under a call in flight (not: we are being cancelled).
            if call.cancelled() and not _being_cancelled():
                raise Offline from None
            raise
        except ConnectionClosed:
            raise Offline from None
        except TimeoutError:
            charger.stats.add("call_timeouts")
            raise
        except OCPPError:
            charger.stats.add("call_errors")
            raise
        finally:
            link.inflight.discard(call)
        charger.stats.record_call(time.monotonic() - started)
        return result
