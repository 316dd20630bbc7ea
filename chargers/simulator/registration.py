"""Being registered with the CSMS: BootNotification until it accepts the charger, then
heartbeats at the interval it gave (or the one the charger was configured with)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ocpp.exceptions import OCPPError

from chargers.simulator.state import Offline, describe

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger
    from chargers.simulator.connection import Link


class Registration:
    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        self.status: str | None = None  # the CSMS's last answer to BootNotification
        self.reason = "PowerUp"  # why the charger boots: what the next BootNotification says
        self.heartbeat_interval = float(charger.config.heartbeat_interval or 0)
        self._retry: float | None = None
        self._boot_kick = asyncio.Event()
        self._heartbeat_kick = asyncio.Event()

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"

    async def boot_until_accepted(self) -> None:
        while True:
            try:
                status = await self.boot()
            except (TimeoutError, OCPPError) as error:
                self.charger.events.add("boot-failed", describe(error))
                status = None
            if status == "Accepted":
                return
            self._boot_kick.clear()
            wait = self._retry or self.charger.config.boot_retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._boot_kick.wait(), wait)

    async def boot(self) -> str:
        """Send one BootNotification; returns the registration status."""
        charger = self.charger
        result = await charger.connection.call(charger._boot_payload(), registered=False)
        self.status = result.status
        if result.status == "Accepted":
            if charger.config.heartbeat_interval is None:
                charger._set_heartbeat_interval(result.interval)
            charger.stats.add("boots")
            charger.events.add(
                "booted",
                f"Accepted (OCPP {charger.version}, firmware {charger.firmware_version}, "
                f"heartbeat every {self.heartbeat_interval:g} s)",
            )
        else:
            self._retry = float(result.interval) or None
            retry = self._retry or charger.config.boot_retry_seconds
            charger.events.add(
                "boot-" + result.status.lower(), f"{result.status}; again in {retry:g} s"
            )
        charger.notify()
        return result.status

    async def triggered_boot(self) -> None:
        """TriggerMessage(BootNotification): boot now, or as soon as the connection allows."""
        try:
            await self.boot()
        except Offline:
            self._boot_kick.set()

    def set_heartbeat_interval(self, seconds: float) -> None:
        self.heartbeat_interval = float(seconds)
        self.kick_heartbeat()

    def kick_heartbeat(self) -> None:
        """Start counting the heartbeat interval again (a new interval, or silence is over)."""
        self._heartbeat_kick.set()

    async def heartbeats(self, link: Link) -> None:
        while link.open:
            self._heartbeat_kick.clear()
            interval = self.heartbeat_interval if self.heartbeat_interval > 0 else None
            try:
                await asyncio.wait_for(self._heartbeat_kick.wait(), interval)
                continue  # a new interval: start counting again
            except TimeoutError:
                pass
            if not self.charger.connection.silent:
                await self.heartbeat()

    async def heartbeat(self) -> bool:
        try:
            await self.charger.connection.call(self.charger._heartbeat_payload())
        except Offline:
            return False
        except (TimeoutError, OCPPError) as error:
            self.charger.events.add("error", f"Heartbeat: {describe(error)}")
            return False
        return True
