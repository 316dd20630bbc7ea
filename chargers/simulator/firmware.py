"""Firmware: an update walks Downloading, Downloaded, (SignatureVerified,) Installing and
Installed, then reboots into the new version, or fails at the configured rate. A 2.0.1 local
controller also publishes firmware to the stations behind it (`Publisher`)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chargers.simulator import downloads
from chargers.simulator.certificates import PEM_CERTIFICATE
from chargers.simulator.events import now_utc

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger


def next_firmware_version(location: str, current: str) -> str:
    """The version in the firmware file's name (fw-2.1.0.bin), else the current one bumped."""
    name = urlsplit(location).path.rsplit("/", 1)[-1]
    found = re.search(r"\d+(?:\.\d+){1,3}", name)
    if found and found.group(0) != current:
        return found.group(0)
    parts = current.split(".")
    if parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return current + ".1"


class Firmware:
    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        self.version = charger.config.firmware_version  # the one running
        self.status = "Idle"
        self.request_id: int | None = None
        # 1.6 SignedUpdateFirmware reports with SignedFirmwareStatusNotification.
        self.signed = False
        self._new_version: str | None = None  # installed, running after the next reboot
        self._status_after_boot: str | None = None

    async def send_status(self, status: str, *, signed: bool | None = None) -> None:
        self.status = status
        self.charger.events.add("firmware", status)
        signed = self.signed if signed is None else signed
        await self.charger.outbox.send(self.charger._firmware_payload(status, signed))

    async def update(
        self,
        location: str,
        retrieve_at: datetime | None = None,
        request_id: int | None = None,
        *,
        signed: bool = False,
    ) -> None:
        """Download, install and reboot into the new version (or fail, at the failure rate).

        A signed update checks the signature after the download and reports SignatureVerified
        (or InvalidSignature, as one of the failures).
        """
        charger = self.charger
        if retrieve_at is not None:
            delay = (retrieve_at - now_utc()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
        self.request_id = request_id
        self.signed = signed
        step = charger.config.firmware_step_seconds
        failure = None
        if charger.rng.random() < charger.config.firmware_failure_rate:
            failures = ("DownloadFailed", "InstallationFailed")
            failure = charger.rng.choice((*failures, "InvalidSignature") if signed else failures)
        await self.send_status("Downloading")
        await asyncio.sleep(step)
        if charger.config.download_firmware and failure is None:
            fetched = await asyncio.to_thread(
                downloads.download, location, charger.config.upload_timeout
            )
            if fetched is None:
                failure = "DownloadFailed"
        if failure == "DownloadFailed":
            await self.send_status(failure)
            return
        await self.send_status("Downloaded")
        await asyncio.sleep(step)
        if signed:
            if failure == "InvalidSignature":
                await self.send_status(failure)
                return
            await self.send_status("SignatureVerified")
        await self.send_status("Installing")
        await asyncio.sleep(step)
        if failure == "InstallationFailed":
            await self.send_status(failure)
            return
        self._new_version = next_firmware_version(location, self.version)
        if charger.rng.random() < charger.config.firmware_stale_rate:
            # Says Installed, reboots, and comes back on what it ran before.
            self._new_version = None
        charger.reboots.security_events.append(
            ("FirmwareUpdated", f"firmware {self._new_version or self.version}")
        )
        if charger.installed_before_reboot and not signed:
            await self.send_status("Installed")
        else:
            await self.send_status("InstallRebooting")
            self._status_after_boot = "Installed"
        await charger.reboots.reboot("FirmwareUpdate", "Reboot")

    def install_pending(self) -> None:
        """The reboot runs the firmware installed before it."""
        if self._new_version:
            self.version, self._new_version = self._new_version, None

    def after_boot(self) -> None:
        if self._status_after_boot:
            status, self._status_after_boot = self._status_after_boot, None
            self.charger.spawn(self.send_status(status))

    def refuses_signing_certificate(self, certificate: str | None) -> bool:
        """A firmware signing certificate that is no certificate: refused, and reported."""
        if certificate is None or certificate.lstrip().startswith(PEM_CERTIFICATE):
            return False
        self.charger.commands.after_reply(
            lambda: self.charger.security_event(
                "InvalidFirmwareSigningCertificate", "the signing certificate is not a PEM"
            )
        )
        return True


class Publisher:
    """A 2.0.1 local controller's firmware for the stations behind it: downloaded, its checksum
    verified, then served on the local network until unpublished."""

    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        self.status = "Idle"
        self.request_id: int | None = None
        self.published: str | None = None  # the checksum of the firmware served

    @property
    def busy(self) -> bool:
        return self.status in ("Downloading", "Downloaded")

    async def publish(self, location: str, checksum: str) -> None:
        """Download the file, verify its checksum and serve it to the local stations."""
        charger = self.charger
        await self.send_status("Downloading")
        await asyncio.sleep(charger.config.firmware_step_seconds)
        if charger.rng.random() < charger.config.firmware_failure_rate:
            await self.send_status("InvalidChecksum")
            return
        await self.send_status("Downloaded")
        await self.send_status("ChecksumVerified")
        self.published = checksum
        name = location.rstrip("/").rsplit("/", 1)[-1] or "firmware.bin"
        served = [f"http://{charger.id.lower()}.local/firmware/{name}"[:512]]
        await self.send_status("Published", served)

    async def send_status(self, status: str, location: list[str] | None = None) -> None:
        charger = self.charger
        self.status = status
        charger.events.add("publish", status)
        if status == "Published" and location is None:
            location = [f"http://{charger.id.lower()}.local/firmware/"]
        await charger.outbox.send(
            charger.calls.PublishFirmwareStatusNotification(
                status=status, location=location, request_id=self.request_id
            )
        )

    def unpublish(self, checksum: str) -> str:
        if self.busy:
            return "DownloadOngoing"
        if self.published != checksum:
            return "NoFirmware"
        self.published, self.status = None, "Idle"
        return "Unpublished"
