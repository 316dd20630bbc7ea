"""How messages leave the charger.

Everything but BootNotification and Heartbeat goes through one outbox, sent in order by one
sender task, one CALL at a time as OCPP requires. Transaction messages are persistent: while the
charger is offline they wait in the outbox and are sent in order after the reconnect, and a
CALLERROR or timeout is retried a few times, as real chargers do. Other messages
(StatusNotification, Authorize, ...) are volatile: offline they are not sent at all, and the
charger reports every connector's status again after reconnecting.

Payloads are built when they are sent, so a 1.6 StopTransaction queued offline carries the
transactionId the CSMS returned for its StartTransaction, which was queued before it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocpp.exceptions import OCPPError

from chargers.simulator.state import Offline, describe

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger


@dataclass
class Outgoing:
    action: str
    build: Callable[[], object | None]
    persistent: bool
    future: asyncio.Future
    on_result: Callable[[object], None] | None = None
    on_fail: Callable[[], None] | None = None
    attempts: int = 0


def _resolve(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


class Outbox:
    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        # TransactionMessageAttempts / MessageAttempts and their retry interval: the CSMS can
        # change both while the charger runs.
        self.attempts = charger.config.message_attempts
        self.retry_interval = charger.config.message_retry_interval
        self._items: deque[Outgoing] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def holds(self, action: str) -> bool:
        return any(item.action == action for item in self._items)

    def enqueue(
        self,
        action: str,
        build: Callable[[], object | None],
        *,
        persistent: bool,
        on_result: Callable[[object], None] | None = None,
        on_fail: Callable[[], None] | None = None,
    ) -> asyncio.Future:
        """Queue a message whose payload build() makes when it is sent (None: drop it);
        the future resolves to the CSMS's answer, or None when the message was not sent."""
        future = asyncio.get_running_loop().create_future()
        if not persistent and not self.charger.can_send():
            future.set_result(None)
            return future
        self._items.append(Outgoing(action, build, persistent, future, on_result, on_fail))
        self.charger.notify()
        return future

    def put(self, payload, *, persistent: bool = False) -> asyncio.Future:
        """Queue a payload made already; its action is its class name."""
        return self.enqueue(type(payload).__name__, lambda: payload, persistent=persistent)

    async def send(self, payload, *, persistent: bool = False):
        """Queue a payload made already and wait (bounded) for its answer; None offline."""
        return await self.settle(self.put(payload, persistent=persistent))

    def drop_volatile(self) -> None:
        """A lost connection loses what was not meant to survive it; statuses are resent."""
        for item in [item for item in self._items if not item.persistent]:
            self._discard(item)

    def _discard(self, item: Outgoing, result=None) -> None:
        with contextlib.suppress(ValueError):
            self._items.remove(item)
        _resolve(item.future, result)

    async def run(self) -> None:
        """The sender: the oldest message, once the charger may send, until cancelled."""
        charger = self.charger
        while True:
            await charger.wait_until(lambda: bool(self._items) and charger.can_send())
            item = self._items[0]
            payload = item.build()
            if payload is None:  # e.g. a 1.6 transaction whose StartTransaction was lost
                self._discard(item)
                continue
            try:
                result = await charger.connection.call(payload)
            except Offline:
                if not item.persistent:
                    self._discard(item)
                continue
            except (TimeoutError, OCPPError) as error:
                item.attempts += 1
                if item.persistent and item.attempts < max(1, self.attempts):
                    await asyncio.sleep(self.retry_interval * item.attempts)
                    continue
                self._discard(item)
                charger.stats.add("messages_dropped")
                charger.events.add(
                    "error", f"{item.action} given up after {item.attempts}: {describe(error)}"
                )
                if item.on_fail is not None:
                    item.on_fail()
                continue
            self._discard(item, result)
            if charger.ledger is not None:
                charger.ledger.record(charger.id, item.action, payload, result)
            if item.on_result is not None:
                try:
                    item.on_result(result)
                except Exception as error:  # a bad answer must not stop the outbox
                    charger.events.add("error", f"handling the answer to {item.action}: {error!r}")
            charger.notify()

    async def settle(self, future: asyncio.Future | None):
        """Wait (bounded) for a queued message's answer while online; None if not there."""
        if future is None:
            return None
        if not future.done() and not self.charger.online:
            return None
        limit = self.charger.config.response_timeout * (1 + len(self._items))
        try:
            return await asyncio.wait_for(asyncio.shield(future), limit)
        except TimeoutError:
            return None

    async def drain(self, seconds: float) -> None:
        """Wait until everything queued is delivered, the charger cannot send, or `seconds`."""
        await self.charger.wait_until(
            lambda: not self._items or not self.charger.can_send(), seconds
        )
