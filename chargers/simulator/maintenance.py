"""What a charger does for its operator besides charging: reboots (Reset, a new firmware) and
uploads of its log (1.6 GetDiagnostics, GetLog). Firmware updates are in firmware.py."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chargers.simulator import uploads
from chargers.simulator.events import iso

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger

# Statuses that say a firmware update or an upload is still under way.
BUSY = ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Uploading")


def idle_unless_busy(status: str) -> str:
    """What a triggered status notification says: the step under way, else Idle."""
    return status if status in BUSY else "Idle"


class Reboots:
    """Stop sessions, deliver what can be delivered, disconnect, wait, boot again.

    `SimulatedCharger.run()` does the waiting and the boot: a reboot only sets `pending` and
    closes the connection.
    """

    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        self.rebooting = False
        self.pending: str | None = None  # the boot reason of the reboot run() is to do
        # Reset OnIdle (2.0.1) while sessions run: (boot reason, stop reason) once they ended.
        self.when_idle: tuple[str, str] | None = None
        # Security events that happened while the charger was down, sent once it booted.
        self.security_events: list[tuple[str, str]] = []

    async def reboot(self, boot_reason: str = "RemoteReset", stop_reason: str = "HardReset"):
        charger = self.charger
        if self.rebooting or self.pending is not None:
            return
        self.rebooting = True
        self.when_idle = None
        charger.events.add("rebooting", boot_reason)
        if boot_reason == "RemoteReset":
            self.security_events.append(("ResetOrReboot", "reset by the CSMS"))
        charger.sessions.finish_all(stop_reason)
        if charger.online:
            await charger.outbox.drain(charger.config.response_timeout)
        self.pending = boot_reason
        charger.notify()
        await charger.connection.close()

    def session_ended(self) -> None:
        """The reset waiting for the last session to end runs now, if that one has ended."""
        if self.when_idle and not self.charger.sessions:
            boot_reason, stop_reason = self.when_idle
            self.charger.spawn(self.reboot(boot_reason, stop_reason))

    async def power_cycle(self) -> None:
        """The reboot itself: everything volatile is forgotten, a new firmware is installed."""
        charger = self.charger
        reason, self.pending = self.pending, None
        self.rebooting = True
        charger.registration.status = None
        # run() power-cycles for a pending reboot; without one, the power came back.
        charger.registration.reason = reason or "PowerUp"
        charger.connectors.forget_after_reboot()
        charger.firmware.install_pending()
        await charger.wait_until(lambda: charger.stopping, charger.config.reboot_seconds)
        self.rebooting = False
        charger.notify()

    def after_boot(self) -> None:
        events, self.security_events = self.security_events, []
        for kind, tech_info in events:
            self.charger.spawn(self.charger.security_event(kind, tech_info))


class Uploads:
    """The charger's log, uploaded where the CSMS says, with a status message for each step."""

    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        self.status = "Idle"
        self.request_id: int | None = None
        # 1.6 uploads for GetDiagnostics report with DiagnosticsStatusNotification, for the
        # security extension's GetLog with LogStatusNotification.
        self.kind = "log"

    def _content(self) -> bytes:
        charger = self.charger
        lines = [
            f"charger {charger.id} ({charger.config.vendor} {charger.config.model})",
            f"firmware {charger.firmware_version}, OCPP {charger.version}",
            f"written {iso()}",
            "",
            *(event.line() for event in charger.events),
        ]
        return ("\n".join(lines) + "\n").encode()

    async def upload(
        self, location: str, filename: str, request_id: int | None = None, *, kind: str = "log"
    ) -> bool:
        """Upload the log to `location`, reporting Uploading, then Uploaded or the failure."""
        self.request_id, self.kind = request_id, kind
        await self.send_status("Uploading")
        ok = await asyncio.to_thread(
            uploads.upload, location, filename, self._content(), self.charger.config.upload_timeout
        )
        await self.send_status("Uploaded" if ok else "Failed")
        return ok

    async def send_status(self, outcome: str, *, kind: str | None = None) -> None:
        self.status = outcome
        self.charger.events.add("upload", outcome)
        await self.charger.outbox.send(self.charger._upload_payload(outcome, kind or self.kind))
