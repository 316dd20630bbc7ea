"""What an OCPP version decides for a simulated charger: the payloads of the messages it
sends, how it reads the answers, and what it tells the CSMS on the way.

`Charger16` and `Charger201` implement these hooks; the parts of `SimulatedCharger`
(sessions, connectors, registration, ...) call them, so they stay the same for both versions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from chargers.simulator.meter import Reading
from chargers.simulator.state import Connector, Reservation, Session

if TYPE_CHECKING:
    from chargers.simulator.config import ChargerConfig
    from chargers.simulator.maintenance import Uploads


class VersionHooks:
    version = ""
    # The ocpp library has no types: these are Any to mypy.
    calls: Any = None  # the version's ocpp `call` module
    results: Any = None  # and its `call_result` module
    routed_cp: Any = None  # the library's ChargePoint, routing commands to this charger
    # What a change of a setting (a 1.6 key, a 2.0.1 Component.Variable) does to the charger.
    settings: dict[str, str] = {}
    # 1.6 chargers report Installed before rebooting; 2.0.1 reports InstallRebooting, reboots,
    # and reports Installed after the new firmware booted.
    installed_before_reboot = True

    # What the hooks use of the SimulatedCharger they are part of.
    id: str
    config: ChargerConfig
    uploads: Uploads

    def _make_store(self):
        raise NotImplementedError

    def _make_cp(self, link):
        cp = self.routed_cp(self.id, link, response_timeout=self.config.response_timeout)
        cp.sim = self
        return cp

    def _boot_payload(self):
        raise NotImplementedError

    def _heartbeat_payload(self):
        raise NotImplementedError

    def _status_name(self, connector: Connector) -> str:
        raise NotImplementedError

    def _status_payload(self, connector: Connector, status: str):
        raise NotImplementedError

    def _report_station(self, force: bool = False) -> None:
        """1.6 reports connector 0 as well; 2.0.1 has no such thing."""

    def _authorize_payload(self, session: Session):
        raise NotImplementedError

    def _authorization_status(self, result) -> str | None:
        raise NotImplementedError

    def _begin_transaction(self, session: Session, reading: Reading) -> asyncio.Future:
        raise NotImplementedError

    def _meter_sample(self, connector: Connector, reading: Reading, context: str):
        raise NotImplementedError

    def _end_transaction(self, session: Session, reading: Reading, reason: str):
        raise NotImplementedError

    def _fault_notice(self, connector: Connector, error_code: str, active: bool) -> None:
        """2.0.1 reports problems with NotifyEvent as well; 1.6 only has StatusNotification."""

    def _fault_stop_reason(self, error_code: str) -> str:
        return "Other"

    def _car_plugged(self, session: Session) -> None:
        """An ISO 15118 car was plugged in (2.0.1: Plug & Charge certificate messages)."""

    def _car_charging(self, session: Session) -> None:
        """An ISO 15118 car's transaction began (2.0.1: NotifyEVChargingNeeds)."""

    def _reservation_ended(self, reservation: Reservation, why: str) -> None:
        """2.0.1 tells the CSMS with ReservationStatusUpdate; 1.6 only with the status."""

    def _firmware_payload(self, status: str, signed: bool):
        raise NotImplementedError

    def _upload_payload(self, outcome: str, kind: str):
        """outcome: Idle, Uploading, Uploaded or Failed; kind: log or diagnostics."""
        status = outcome if outcome in ("Idle", "Uploading", "Uploaded") else "UploadFailure"
        return self.calls.LogStatusNotification(status=status, request_id=self.uploads.request_id)

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        raise NotImplementedError
