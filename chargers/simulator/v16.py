"""An OCPP 1.6J charger: its messages and its answers to commands.

Its transactions (StartTransaction, MeterValues, StopTransaction, remote start and stop) are in
v16_transactions.py; its configuration keys are a table in factory_settings.py.
"""

from __future__ import annotations

import asyncio

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode

from chargers.simulator.base import SimulatedCharger
from chargers.simulator.commands import at_once
from chargers.simulator.events import iso, now_utc, parse_iso
from chargers.simulator.factory_settings import configuration_store
from chargers.simulator.keystore import ConfigurationStore, format_seconds
from chargers.simulator.maintenance import idle_unless_busy
from chargers.simulator.routing import routed
from chargers.simulator.state import Connector
from chargers.simulator.v16_transactions import Transactions16

ERROR_CODES = {c.value for c in ChargePointErrorCode}
UPLOAD_STATUS = {"Idle": "Idle", "Uploading": "Uploading", "Uploaded": "Uploaded"}
# What the plain FirmwareStatusNotification says for the steps only a signed update has.
PLAIN_FIRMWARE_STATUS = {
    "SignatureVerified": "Downloaded",
    "InvalidSignature": "DownloadFailed",
    "InstallRebooting": "Installing",
}


class Charger16(Transactions16, SimulatedCharger):
    version = "1.6"
    calls = call
    results = call_result
    settings = {
        "HeartbeatInterval": "heartbeat_interval",
        "MeterValueSampleInterval": "meter_interval",
        "TransactionMessageAttempts": "message_attempts",
        "TransactionMessageRetryInterval": "message_retry_interval",
        "WebSocketPingInterval": "ping_interval",
        "AuthorizationKey": "password",
    }

    def _make_store(self) -> ConfigurationStore:
        return configuration_store(self.config, on_change=self._setting_changed)

    def _set_heartbeat_interval(self, seconds: float) -> None:
        super()._set_heartbeat_interval(seconds)
        self.store.put("HeartbeatInterval", format_seconds(seconds))

    # --- messages ------------------------------------------------------------------------

    def _boot_payload(self):
        c = self.config
        return call.BootNotification(
            charge_point_model=c.model[:20],
            charge_point_vendor=c.vendor[:20],
            charge_point_serial_number=c.serial[:25],
            charge_box_serial_number=c.serial[:25],
            firmware_version=self.firmware_version[:50],
            meter_type="SimMeter 3P",
            meter_serial_number=f"M-{c.serial}"[:25],
        )

    def _heartbeat_payload(self):
        return call.Heartbeat()

    def _status_name(self, connector: Connector) -> str:
        return connector.state

    def _error_code(self, code: str | None) -> tuple[str, str | None]:
        if code is None:
            return "NoError", None
        if code in ERROR_CODES:
            return code, None
        return "OtherError", code[:50]

    def _status_payload(self, connector: Connector, status: str):
        error_code, vendor_code = self._error_code(connector.error_code)
        return call.StatusNotification(
            connector_id=connector.id,
            error_code=error_code,
            status=status,
            timestamp=iso(),
            vendor_error_code=vendor_code,
        )

    def _report_station(self, force: bool = False) -> None:
        status = "Available" if self.connectors.station_operative else "Unavailable"
        payload = call.StatusNotification(
            connector_id=0, error_code="NoError", status=status, timestamp=iso()
        )
        self.outbox.enqueue("StatusNotification", lambda: payload, persistent=False)

    def _firmware_payload(self, status: str, signed: bool):
        if signed:
            return call.SignedFirmwareStatusNotification(
                status=status, request_id=self.firmware.request_id
            )
        return call.FirmwareStatusNotification(status=PLAIN_FIRMWARE_STATUS.get(status, status))

    def _upload_payload(self, outcome: str, kind: str):
        if kind == "log":
            return super()._upload_payload(outcome, kind)
        return call.DiagnosticsStatusNotification(status=UPLOAD_STATUS.get(outcome, "UploadFailed"))

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        return call.SignCertificate(csr=csr)

    # --- commands ------------------------------------------------------------------------

    def on_reset(self, type):
        stop_reason = "HardReset" if type == "Hard" else "SoftReset"
        self.commands.after_reply(lambda: self.reboots.reboot("RemoteReset", stop_reason))
        return call_result.Reset(status="Accepted")

    def on_unlock_connector(self, connector_id):
        connector = self.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status="NotSupported")
        if connector.session is not None:
            self.commands.after_reply(lambda: self.stop_session("UnlockCommand", connector_id))
        return call_result.UnlockConnector(status="Unlocked")

    def on_change_availability(self, connector_id, type):
        return self.connectors.change_availability(
            connector_id, type == "Operative", call_result.ChangeAvailability
        )

    def on_get_configuration(self, key=None):
        entries, unknown = self.store.get(key)
        return call_result.GetConfiguration(
            configuration_key=entries or None, unknown_key=unknown or None
        )

    def on_change_configuration(self, key, value):
        return call_result.ChangeConfiguration(status=self.store.change(key, value))

    def on_trigger_message(self, requested_message, connector_id=None):
        return self._trigger(requested_message, connector_id, call_result.TriggerMessage)

    def on_extended_trigger_message(self, requested_message, connector_id=None):
        """The security extension's trigger: its own set of messages, the signed ones."""
        return self._trigger(
            requested_message, connector_id, call_result.ExtendedTriggerMessage, signed=True
        )

    def _trigger(self, requested_message, connector_id, reply, *, signed: bool = False):
        """TriggerMessage, or (signed) ExtendedTriggerMessage with its own set of messages."""
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return reply(status="Rejected")
        firmware = lambda: self.firmware.send_status(  # noqa: E731
            idle_unless_busy(self.firmware.status), signed=signed
        )
        jobs = {
            "BootNotification": self.registration.triggered_boot,
            "Heartbeat": self.registration.heartbeat,
            "StatusNotification": lambda: self._triggered_status(connector_id),
            "MeterValues": lambda: self._triggered_meter_values(connector_id),
            "FirmwareStatusNotification": firmware,
        }
        upload = idle_unless_busy(self.uploads.status)
        if signed:
            jobs["LogStatusNotification"] = lambda: self.uploads.send_status(upload, kind="log")
            jobs["SignChargePointCertificate"] = self.sign_certificate
        else:
            jobs["DiagnosticsStatusNotification"] = lambda: self.uploads.send_status(
                upload, kind="diagnostics"
            )
        return self.commands.trigger(jobs, requested_message, reply)

    async def _triggered_status(self, connector_id):
        if connector_id in (None, 0):
            self._report_station(force=True)
        if connector_id == 0:
            return
        targets = [self.connectors[connector_id]] if connector_id else self.connectors.values()
        for connector in targets:
            self.connectors.report(connector, force=True)

    async def _triggered_meter_values(self, connector_id):
        targets = [connector_id] if connector_id else list(self.connectors)
        await asyncio.gather(*(self.send_meter_values(n, context="Trigger") for n in targets))

    def _has_a_local_list(self):
        # A charger built without the feature does not know the local list's messages.
        if not self.config.local_list:
            raise NotSupportedError(description="This charger keeps no local list.")

    def on_get_local_list_version(self):
        self._has_a_local_list()
        return call_result.GetLocalListVersion(list_version=self.local_list.version)

    def on_send_local_list(self, list_version, update_type, local_authorization_list=None):
        self._has_a_local_list()
        entries = [
            (entry["id_tag"], (entry.get("id_tag_info") or {}).get("status"))
            for entry in local_authorization_list or ()
        ]
        status = self.local_list.update(list_version, update_type, entries)
        return call_result.SendLocalList(status=status)

    def on_reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, **_):
        if connector_id == 0:
            return call_result.ReserveNow(status="Rejected")
        expires = parse_iso(expiry_date)
        if expires is None:
            return call_result.ReserveNow(status="Rejected")
        status, connector = self.connectors.reserve(reservation_id, connector_id, id_tag, expires)
        if connector is not None:
            self.commands.after_reply(at_once(lambda: self.connectors.report(connector)))
        return call_result.ReserveNow(status=status)

    def on_set_charging_profile(self, connector_id, cs_charging_profiles):
        purpose = cs_charging_profiles.get("charging_profile_purpose")
        if connector_id != 0 and connector_id not in self.connectors:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "TxProfile":
            session = self.connectors[connector_id].session if connector_id else None
            if session is None:
                return call_result.SetChargingProfile(status="Rejected")
        self._install_profile(cs_charging_profiles, connector_id)
        return call_result.SetChargingProfile(status="Accepted")

    def on_clear_charging_profile(
        self, id=None, connector_id=None, charging_profile_purpose=None, stack_level=None
    ):
        status = self._clear_profiles(
            profile_id=id,
            connector_id=connector_id,
            purpose=charging_profile_purpose,
            stack_level=stack_level,
        )
        return call_result.ClearChargingProfile(status=status)

    def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None):
        if connector_id != 0 and connector_id not in self.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "W"
        limit = self._composite_limit(connector_id, unit)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=iso(),
            charging_schedule={
                "duration": duration,
                "charging_rate_unit": unit,
                "charging_schedule_period": [{"start_period": 0, "limit": limit}],
            },
        )

    def on_update_firmware(self, location, retrieve_date, retries=None, retry_interval=None):
        self.commands.after_reply(lambda: self.firmware.update(location, parse_iso(retrieve_date)))
        return call_result.UpdateFirmware()

    def on_get_diagnostics(self, location, **_):
        filename = f"diagnostics-{self.id}-{now_utc():%Y%m%dT%H%M%SZ}.txt"
        self.commands.after_reply(
            lambda: self.uploads.upload(location, filename, kind="diagnostics")
        )
        return call_result.GetDiagnostics(file_name=filename)

    def on_signed_update_firmware(self, request_id, firmware, **_):
        if self.firmware.refuses_signing_certificate(firmware["signing_certificate"]):
            return call_result.SignedUpdateFirmware(status="InvalidCertificate")
        location = firmware["location"]
        retrieve_at = parse_iso(firmware["retrieve_date_time"])
        self.commands.after_reply(
            lambda: self.firmware.update(location, retrieve_at, request_id, signed=True)
        )
        return call_result.SignedUpdateFirmware(status="Accepted")

    def on_get_installed_certificate_ids(self, certificate_type):
        found = self.certificates.of_types([certificate_type])
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[c.hash_data for c in found]
        )


# Every 1.6 command Charger16 has an on_<action> handler for reaches it.
RoutedChargePoint16 = Charger16.routed_cp = routed(ChargePoint, Action, Charger16)
