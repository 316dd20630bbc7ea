"""Commands OCPP 1.6 (with its security extension) and 2.0.1 answer alike, and the helpers
both versions' charging-profile commands use."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chargers.simulator.commands import at_once
from chargers.simulator.events import now_utc
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES

if TYPE_CHECKING:
    from chargers.simulator.certificates import Certificates
    from chargers.simulator.commands import Commands
    from chargers.simulator.config import ChargerConfig
    from chargers.simulator.connection import Connection
    from chargers.simulator.connectors import Connectors
    from chargers.simulator.events import EventLog
    from chargers.simulator.limits import Limits
    from chargers.simulator.maintenance import Uploads

# The OCA's California Pricing messages (1.6 DataTransfer): SetUserPrice, RunningCost, FinalCost.
COST_VENDOR = "org.openchargealliance.costmsg"


class CommonCommands:
    """Part of SimulatedCharger; `results` is the version's call_result module."""

    # What these commands use of the SimulatedCharger they are part of.
    id: str
    config: ChargerConfig
    results: Any
    certificates: Certificates
    commands: Commands
    connection: Connection
    connectors: Connectors
    events: EventLog
    limits: Limits
    uploads: Uploads
    shown: list[str]
    running_costs: list[tuple[str, float]]
    final_costs: dict[str, float]

    if TYPE_CHECKING:

        def now(self) -> float: ...

        def notify(self) -> None: ...

        async def security_event(self, kind: str, tech_info: str | None = None) -> Any: ...

    def on_get_log(self, log, log_type, request_id, **_):
        filename = f"{log_type.lower()}-{self.id}-{now_utc():%Y%m%dT%H%M%SZ}.txt"
        location = log["remote_location"]
        self.commands.after_reply(lambda: self.uploads.upload(location, filename, request_id))
        return self.results.GetLog(status="Accepted", filename=filename)

    def on_clear_cache(self, **_):
        return self.results.ClearCache(status="Accepted")

    def on_data_transfer(self, vendor_id, message_id=None, data=None, **_):
        if vendor_id == COST_VENDOR and self.config.california_pricing:
            return self.results.DataTransfer(status=self._show_cost(message_id, data))
        if vendor_id != self.config.vendor:
            return self.results.DataTransfer(status="UnknownVendorId")
        return self.results.DataTransfer(status="Accepted", data=data)

    def _show_cost(self, message_id, data) -> str:
        """California Pricing: SetUserPrice, RunningCost and FinalCost carry a JSON object as
        their data."""
        if message_id == "SetUserPrice":
            return self._show_user_price(data)
        try:
            cost = json.loads(data)
            transaction_id, amount = str(cost["transactionId"]), float(cost["cost"])
        except (TypeError, ValueError, KeyError):
            return "Rejected"
        if message_id == "RunningCost":
            self.running_costs.append((transaction_id, amount))
        elif message_id == "FinalCost":
            self.final_costs[transaction_id] = amount
        else:
            return "UnknownMessageId"
        self.events.add("cost", f"{message_id} transaction {transaction_id}: {amount}")
        self.notify()
        return "Accepted"

    def _show_user_price(self, data) -> str:
        """The driver's price once their token is accepted, before charging: shown like a
        2.0.1 personal message."""
        try:
            price = json.loads(data)
            text = str(price["priceText"])
            id_token = str(price["idToken"])
        except (TypeError, ValueError, KeyError):
            return "Rejected"
        self.shown.append(text)
        self.events.add("display", f"user price for {id_token}: {text[:60]}")
        self.notify()
        return "Accepted"

    def on_install_certificate(self, certificate_type, certificate, **_):
        status = self.certificates.install(certificate_type, certificate)
        self.events.add("certificate", f"{certificate_type} install: {status}")
        return self.results.InstallCertificate(status=status)

    def on_delete_certificate(self, certificate_hash_data, **_):
        status = self.certificates.delete(certificate_hash_data)
        return self.results.DeleteCertificate(status=status)

    def on_certificate_signed(self, certificate_chain, certificate_type=None, **_):
        kind = certificate_type or "ChargingStationCertificate"
        status = self.certificates.signed(certificate_chain, kind)
        self.events.add("certificate", f"{kind} signed: {status}")
        if status == "Rejected":
            self.commands.after_reply(
                lambda: self.security_event("InvalidChargingStationCertificate", "not a PEM chain")
            )
        elif kind == "ChargingStationCertificate" and self._presents_certificate_later():
            # Profile 3: the next connection presents the new certificate; make it now.
            self.commands.after_reply(self.connection.close)
        return self.results.CertificateSigned(status=status)

    def _presents_certificate_later(self) -> bool:
        return self.config.client_certificate and self.config.endpoint.startswith("wss:")

    def on_cancel_reservation(self, reservation_id, **_):
        connector = self.connectors.cancel_reservation(reservation_id)
        if connector is None:
            return self.results.CancelReservation(status="Rejected")
        self.commands.after_reply(at_once(lambda: self.connectors.report(connector)))
        return self.results.CancelReservation(status="Accepted")

    def _install_profile(self, data: dict, evse_id: int) -> None:
        profile = parse_profile(data, evse_id, now=self.now(), wall=now_utc())
        self.limits.install(profile)
        cap = self.limits.cap_w(evse_id or 1, self.now())
        self.events.add("limit", f"profile {profile.id} on connector {evse_id}: cap {cap} W")

    def _clear_profiles(self, **criteria) -> str:
        return "Accepted" if self.limits.clear(**criteria) else "Unknown"

    def _composite_limit(self, evse_id: int, unit: str) -> float:
        """The limit in force on evse_id (0: the charger) in W or A, as a schedule states it."""
        cap = self.limits.cap_w(evse_id or 1, self.now())
        limit_w = self.config.max_power_w if cap is None else cap
        return round(limit_w if unit == "W" else limit_w / (NOMINAL_VOLTAGE * PHASES), 1)
