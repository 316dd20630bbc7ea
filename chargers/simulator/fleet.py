"""Many simulated chargers on one event loop, connecting at a bounded rate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from chargers.simulator.base import SimulatedCharger
from chargers.simulator.config import ChargerConfig, charger_ids
from chargers.simulator.events import Event, Stats
from chargers.simulator.ledger import Ledger


class RateLimiter:
    """At most `rate` connection attempts per second, shared by every charger of a fleet.

    Reconnects pass through it too, so a fleet that lost its server does not hammer it all at
    once when it comes back; 0 means no limit.
    """

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def fleet_configs(
    *,
    url: str,
    count: int,
    prefix: str = "SIM-",
    start: int = 1,
    version: str = "1.6",
    password: str | None = None,
    passwords: dict[str, str] | None = None,
    **options,
) -> list[ChargerConfig]:
    """One config per charger; version "mix" alternates 1.6 and 2.0.1."""
    configs = []
    for index, charger_id in enumerate(charger_ids(prefix, count, start)):
        charger_version = ("1.6", "2.0.1")[index % 2] if version == "mix" else version
        configs.append(
            ChargerConfig(
                url=url,
                charger_id=charger_id,
                password=(passwords or {}).get(charger_id, password),
                version=charger_version,
                **options,
            )
        )
    return configs


class Fleet:
    def __init__(
        self,
        configs: list[ChargerConfig],
        *,
        connect_rate: float = 20.0,
        reporter: Callable[[Event], None] | None = None,
        stats: Stats | None = None,
        ledger: Ledger | None = None,
    ):
        self.stats = stats if stats is not None else Stats()
        self.limiter = RateLimiter(connect_rate)
        self.chargers = [
            SimulatedCharger.create(
                config,
                reporter=reporter,
                stats=self.stats,
                rate_limiter=self.limiter,
                ledger=ledger,
            )
            for config in configs
        ]
        # Made anew by start(): a stop requested before then has nothing to stop.
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def online(self) -> int:
        return sum(1 for charger in self.chargers if charger.online)

    async def wait_online(self, seconds: float) -> bool:
        """Wait until every charger booted and is connected; False after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.online < len(self.chargers):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(charger.run()) for charger in self.chargers]

    async def run(self, duration: float = 0) -> Stats:
        """Run until `duration` seconds passed (0: until request_stop()), then stop cleanly."""
        await self.start()
        try:
            waiting = self._stop.wait()
            if duration > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting, duration)
            else:
                await waiting
        finally:
            await self.stop()
        return self.stats

    async def stop(self, *, graceful: bool = True) -> None:
        """Stop every charger (ending sessions and delivering their queues, bounded)."""
        await asyncio.gather(
            *(charger.stop(graceful=graceful) for charger in self.chargers),
            return_exceptions=True,
        )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    @property
    def queued(self) -> int:
        return sum(charger.queued for charger in self.chargers)
