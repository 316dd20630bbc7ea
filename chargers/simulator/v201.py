"""An OCPP 2.0.1 charging station: its messages and its answers to commands.

Each simulated connector is an EVSE with one connector: EVSE n, connectorId 1. The station is
put together from parts, one module each: its transactions (v201_transactions.py), what it is
asked about itself (device model, monitors, display messages: v201_device.py) and smart
charging with ISO 15118 cars (v201_smart_charging.py). This module has the rest: boot,
statuses, reset, availability, triggers, the local list, reservations, firmware, certificates.
"""

from __future__ import annotations

import asyncio

from ocpp.exceptions import NotSupportedError
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from chargers.simulator.base import SimulatedCharger
from chargers.simulator.commands import at_once
from chargers.simulator.contract import Contract, emaid_for
from chargers.simulator.events import iso, parse_iso
from chargers.simulator.factory_settings import device_model
from chargers.simulator.firmware import Publisher
from chargers.simulator.keystore import DeviceModel, format_seconds
from chargers.simulator.maintenance import idle_unless_busy
from chargers.simulator.routing import routed
from chargers.simulator.state import Connector
from chargers.simulator.v201_device import DeviceCommands201
from chargers.simulator.v201_smart_charging import SmartCharging201
from chargers.simulator.v201_transactions import Transactions201

FAULT_REASONS = {"GroundFailure": "GroundFault", "OverCurrentFailure": "OvercurrentFault"}


class Charger201(Transactions201, DeviceCommands201, SmartCharging201, SimulatedCharger):
    version = "2.0.1"
    calls = call
    results = call_result
    settings = {
        "OCPPCommCtrlr.HeartbeatInterval": "heartbeat_interval",
        "SampledDataCtrlr.TxUpdatedInterval": "meter_interval",
        "OCPPCommCtrlr.MessageAttempts": "message_attempts",
        "OCPPCommCtrlr.MessageAttemptInterval": "message_retry_interval",
        "OCPPCommCtrlr.WebSocketPingInterval": "ping_interval",
        "SecurityCtrlr.BasicAuthPassword": "password",
    }
    installed_before_reboot = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.publisher = Publisher(self)
        # Plug & Charge: the car's contract (every session of this charger is such a car).
        self.contract = (
            Contract(self.config.emaid or emaid_for(self.id))
            if self.config.plug_and_charge
            else None
        )

    def _make_store(self) -> DeviceModel:
        return device_model(self.config, on_change=self._setting_changed)

    def _set_heartbeat_interval(self, seconds: float) -> None:
        super()._set_heartbeat_interval(seconds)
        self.store.put("OCPPCommCtrlr", "HeartbeatInterval", format_seconds(seconds))

    # --- messages ------------------------------------------------------------------------

    def _boot_payload(self):
        c = self.config
        return call.BootNotification(
            charging_station={
                "model": c.model[:20],
                "vendor_name": c.vendor[:50],
                "serial_number": c.serial[:25],
                "firmware_version": self.firmware_version[:50],
            },
            reason=self.registration.reason,
        )

    def _heartbeat_payload(self):
        return call.Heartbeat()

    def _status_name(self, connector: Connector) -> str:
        state = connector.state
        return (
            "Occupied" if state in ("Preparing", "Charging", "SuspendedEV", "Finishing") else state
        )

    def _status_payload(self, connector: Connector, status: str):
        self.store.put("EVSE", "AvailabilityState", status, evse=connector.id)
        return call.StatusNotification(
            timestamp=iso(), connector_status=status, evse_id=connector.id, connector_id=1
        )

    def _report_station(self, force: bool = False) -> None:
        state = "Available" if self.connectors.station_operative else "Unavailable"
        self.store.put("ChargingStation", "AvailabilityState", state)

    def _fault_stop_reason(self, error_code: str) -> str:
        return FAULT_REASONS.get(error_code, "Other")

    def _reservation_ended(self, reservation, why: str) -> None:
        payload = call.ReservationStatusUpdate(
            reservation_id=reservation.id, reservation_update_status=why
        )
        self.outbox.enqueue("ReservationStatusUpdate", lambda: payload, persistent=False)

    def _firmware_payload(self, status: str, signed: bool):
        return call.FirmwareStatusNotification(status=status, request_id=self.firmware.request_id)

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        return call.SignCertificate(csr=csr, certificate_type=certificate_type)

    # --- commands ------------------------------------------------------------------------

    def on_reset(self, type, evse_id=None, **_):
        if evse_id is not None:
            # Resetting a single EVSE is optional in 2.0.1; this station does not support it.
            return call_result.Reset(status="Rejected")
        if type == "OnIdle" and self.sessions:
            self.reboots.when_idle = ("RemoteReset", "ImmediateReset")
            return call_result.Reset(status="Scheduled")
        self.commands.after_reply(lambda: self.reboots.reboot("RemoteReset", "ImmediateReset"))
        return call_result.Reset(status="Accepted")

    def on_unlock_connector(self, evse_id, connector_id, **_):
        connector = self.connectors.get(evse_id)
        if connector is None or connector_id != 1:
            return call_result.UnlockConnector(status="UnknownConnector")
        if connector.session is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(status="Unlocked")

    def on_change_availability(self, operational_status, evse=None, **_):
        evse_id = (evse or {}).get("id") or 0
        return self.connectors.change_availability(
            evse_id, operational_status == "Operative", call_result.ChangeAvailability
        )

    def on_trigger_message(self, requested_message, evse=None, **_):
        evse_id = (evse or {}).get("id")
        if evse_id is not None and evse_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self.registration.status == "Accepted":
            # F06.FR.17: a station that is registered already refuses to boot again on demand.
            return call_result.TriggerMessage(status="Rejected")
        jobs = {
            "BootNotification": self._triggered_boot,
            "Heartbeat": self.registration.heartbeat,
            "StatusNotification": lambda: self._triggered_status(evse_id),
            "MeterValues": lambda: self._triggered_meter_values(evse_id, transactions=False),
            "TransactionEvent": lambda: self._triggered_meter_values(evse_id, transactions=True),
            "FirmwareStatusNotification": lambda: self.firmware.send_status(
                idle_unless_busy(self.firmware.status)
            ),
            "LogStatusNotification": lambda: self.uploads.send_status(
                idle_unless_busy(self.uploads.status)
            ),
            "SignChargingStationCertificate": lambda: self.sign_certificate(
                "ChargingStationCertificate"
            ),
            "SignV2GCertificate": lambda: self.sign_certificate("V2GCertificate"),
            "PublishFirmwareStatusNotification": lambda: self.publisher.send_status(
                self.publisher.status
            ),
        }
        return self.commands.trigger(jobs, requested_message, call_result.TriggerMessage)

    async def _triggered_boot(self):
        self.registration.reason = "Triggered"
        await self.registration.triggered_boot()

    async def _triggered_status(self, evse_id):
        targets = [self.connectors[evse_id]] if evse_id else self.connectors.values()
        for connector in targets:
            self.connectors.report(connector, force=True)

    async def _triggered_meter_values(self, evse_id, *, transactions: bool):
        futures = []
        for n in [evse_id] if evse_id else list(self.connectors):
            connector = self.connectors[n]
            if transactions:
                # TransactionEvent(Updated, Trigger) for each running transaction.
                if self.sessions.charging(connector):
                    futures.append(self.sessions.sample(connector, "Trigger"))
                continue
            reading = self.sessions.read(connector)
            meter_value = self._meter_value(
                reading, self._measured("TxUpdatedMeasurands"), "Trigger"
            )
            payload = call.MeterValues(evse_id=n, meter_value=[meter_value])
            futures.append(self.outbox.put(payload))
        await asyncio.gather(*(self.outbox.settle(f) for f in futures))

    def _has_a_local_list(self):
        # A charger built without the feature does not know the local list's messages.
        if not self.config.local_list:
            raise NotSupportedError(description="This charger keeps no local list.")

    def on_get_local_list_version(self, **_):
        self._has_a_local_list()
        return call_result.GetLocalListVersion(version_number=self.local_list.version)

    def on_send_local_list(self, version_number, update_type, local_authorization_list=None, **_):
        self._has_a_local_list()
        entries = [
            (entry["id_token"]["id_token"], (entry.get("id_token_info") or {}).get("status"))
            for entry in local_authorization_list or ()
        ]
        status = self.local_list.update(version_number, update_type, entries)
        self.store.put("LocalAuthListCtrlr", "Entries", str(len(self.local_list)))
        return call_result.SendLocalList(status=status)

    def on_reserve_now(self, id, expiry_date_time, id_token, evse_id=None, **_):
        expires = parse_iso(expiry_date_time)
        if expires is None:
            return call_result.ReserveNow(status="Rejected")
        status, connector = self.connectors.reserve(id, evse_id, id_token["id_token"], expires)
        if connector is not None:
            self.commands.after_reply(at_once(lambda: self.connectors.report(connector)))
        return call_result.ReserveNow(status=status)

    def on_update_firmware(self, request_id, firmware, **_):
        if self.firmware.refuses_signing_certificate(firmware.get("signing_certificate")):
            return call_result.UpdateFirmware(status="InvalidCertificate")
        location = firmware["location"]
        retrieve_at = parse_iso(firmware.get("retrieve_date_time"))
        signed = bool(firmware.get("signature"))
        self.commands.after_reply(
            lambda: self.firmware.update(location, retrieve_at, request_id, signed=signed)
        )
        return call_result.UpdateFirmware(status="Accepted")

    def on_get_installed_certificate_ids(self, certificate_type=None, **_):
        found = self.certificates.of_types(certificate_type)
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data_chain=[
                {"certificate_type": c.type, "certificate_hash_data": c.hash_data} for c in found
            ],
        )

    # --- a local controller publishes firmware to the stations behind it -------------------

    def on_publish_firmware(self, location, checksum, request_id, **_):
        if self.publisher.busy:
            return call_result.PublishFirmware(status="Rejected")
        self.publisher.request_id = request_id
        self.commands.after_reply(lambda: self.publisher.publish(location, checksum))
        return call_result.PublishFirmware(status="Accepted")

    def on_unpublish_firmware(self, checksum, **_):
        return call_result.UnpublishFirmware(status=self.publisher.unpublish(checksum))


# Every 2.0.1 command Charger201 has an on_<action> handler for reaches it.
RoutedChargePoint201 = Charger201.routed_cp = routed(ChargePoint, Action, Charger201)
