"""An OCPP 1.6J charger: its messages, its configuration keys and its answers to commands."""

from __future__ import annotations

import asyncio

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, Reason

from chargers.simulator.base import Connector, Reading, Session, SimulatedCharger
from chargers.simulator.events import iso, now_utc, parse_iso
from chargers.simulator.factory_settings import configuration_store
from chargers.simulator.keystore import ConfigurationStore, format_seconds
from chargers.simulator.limits import parse_profile
from chargers.simulator.routing import routed

HANDLED = (
    Action.cancel_reservation,
    Action.certificate_signed,
    Action.change_availability,
    Action.change_configuration,
    Action.clear_cache,
    Action.clear_charging_profile,
    Action.data_transfer,
    Action.delete_certificate,
    Action.extended_trigger_message,
    Action.get_composite_schedule,
    Action.get_configuration,
    Action.get_diagnostics,
    Action.get_installed_certificate_ids,
    Action.get_local_list_version,
    Action.get_log,
    Action.install_certificate,
    Action.remote_start_transaction,
    Action.remote_stop_transaction,
    Action.reserve_now,
    Action.reset,
    Action.send_local_list,
    Action.set_charging_profile,
    Action.signed_update_firmware,
    Action.trigger_message,
    Action.unlock_connector,
    Action.update_firmware,
)

RoutedChargePoint16 = routed(ChargePoint, HANDLED)

REASONS = {r.value for r in Reason}
ERROR_CODES = {c.value for c in ChargePointErrorCode}
# 2.0.1 stop reasons that callers may use with either version.
REASON_ALIASES = {"ImmediateReset": "HardReset", "StoppedByEV": "EVDisconnected"}
UPLOAD_STATUS = {"Idle": "Idle", "Uploading": "Uploading", "Uploaded": "Uploaded"}
# What the plain FirmwareStatusNotification says for the steps only a signed update has.
PLAIN_FIRMWARE_STATUS = {
    "SignatureVerified": "Downloaded",
    "InvalidSignature": "DownloadFailed",
    "InstallRebooting": "Installing",
}


class Charger16(SimulatedCharger):
    version = "1.6"
    calls = call
    results = call_result
    routed_cp = RoutedChargePoint16
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
        status = "Available" if self.station_operative else "Unavailable"
        payload = call.StatusNotification(
            connector_id=0, error_code="NoError", status=status, timestamp=iso()
        )
        self._enqueue("StatusNotification", lambda: payload, persistent=False)

    def _authorize_payload(self, session: Session):
        return call.Authorize(id_tag=session.id_tag)

    def _authorization_status(self, result) -> str | None:
        return None if result is None else result.id_tag_info.get("status")

    def _sampled_values(self, reading: Reading, measurands: list[str], context: str):
        values = []
        for measurand, value, phase, unit, location in self._samples(reading, measurands):
            sampled = {
                "value": f"{value:.1f}" if unit in ("Wh", "A", "V") else f"{value:.0f}",
                "context": context,
                "format": "Raw",
                "measurand": measurand,
                "location": location,
                "unit": unit,
            }
            if phase:
                sampled["phase"] = phase
            values.append(sampled)
        return values

    def _begin_transaction(self, session: Session, reading: Reading):
        payload = call.StartTransaction(
            connector_id=session.connector_id,
            id_tag=session.id_tag,
            meter_start=round(reading.energy_wh),
            timestamp=iso(session.started_at),
            reservation_id=session.reservation_id,
        )

        def started(result) -> None:
            # Known only now, possibly long after the start when it was queued offline.
            session.transaction_id = result.transaction_id
            status = result.id_tag_info.get("status")
            invalid = status != "Accepted"
            if invalid and self.store.value("StopTransactionOnInvalidId") == "true":
                self._event("deauthorized", f"transaction {result.transaction_id}: {status}")
                self._finish_session(session, "DeAuthorized")

        def lost() -> None:
            session.start_failed = True

        return self._enqueue(
            "StartTransaction", lambda: payload, persistent=True, on_result=started, on_fail=lost
        )

    def _meter_sample(self, connector: Connector, reading: Reading, context: str):
        measurands = self._measurands(self.store.value("MeterValuesSampledData"))
        meter_value = [
            {
                "timestamp": iso(),
                "sampled_value": self._sampled_values(reading, measurands, context),
            }
        ]
        session = self._charging(connector)
        if session is None:
            payload = call.MeterValues(connector_id=connector.id, meter_value=meter_value)
            return self._enqueue("MeterValues", lambda: payload, persistent=False)

        def build():
            if session.transaction_id is None:
                return None  # its StartTransaction was given up: the CSMS has no id for it
            return call.MeterValues(
                connector_id=connector.id,
                meter_value=meter_value,
                transaction_id=session.transaction_id,
            )

        return self._enqueue("MeterValues", build, persistent=True)

    def _end_transaction(self, session: Session, reading: Reading, reason: str):
        reason = REASON_ALIASES.get(reason, reason)
        if reason not in REASONS:
            reason = "Other"
        stop_values = self._measurands(self.store.value("StopTxnSampledData"))
        begin = {
            "timestamp": iso(session.started_at),
            "sampled_value": [
                {
                    "value": f"{session.meter_start_wh:.1f}",
                    "context": "Transaction.Begin",
                    "measurand": "Energy.Active.Import.Register",
                    "location": "Outlet",
                    "unit": "Wh",
                }
            ],
        }
        timestamp = iso()
        end = {
            "timestamp": timestamp,
            "sampled_value": self._sampled_values(reading, stop_values, "Transaction.End"),
        }
        meter_stop = round(reading.energy_wh)

        def build():
            if session.transaction_id is None:
                return None
            return call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=timestamp,
                transaction_id=session.transaction_id,
                reason=reason,
                id_tag=session.id_tag,
                transaction_data=[begin, end] if end["sampled_value"] else [begin],
            )

        return self._enqueue("StopTransaction", build, persistent=True)

    def _firmware_payload(self, status: str, signed: bool):
        if signed:
            return call.SignedFirmwareStatusNotification(
                status=status, request_id=self.firmware_request_id
            )
        return call.FirmwareStatusNotification(status=PLAIN_FIRMWARE_STATUS.get(status, status))

    def _upload_payload(self, outcome: str, kind: str):
        if kind == "log":
            return super()._upload_payload(outcome, kind)
        return call.DiagnosticsStatusNotification(status=UPLOAD_STATUS.get(outcome, "UploadFailed"))

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        return call.SignCertificate(csr=csr)

    # --- commands ------------------------------------------------------------------------

    def on_remote_start_transaction(self, id_tag, connector_id=None, charging_profile=None):
        connector = self._pick_connector(connector_id, id_tag)
        if connector is None:
            return call_result.RemoteStartTransaction(status="Rejected")
        if charging_profile is not None:
            if charging_profile.get("charging_profile_purpose") != "TxProfile":
                return call_result.RemoteStartTransaction(status="Rejected")
            self.limits.install(
                parse_profile(charging_profile, connector.id, now=self._now(), wall=now_utc())
            )
        authorize = self.store.value("AuthorizeRemoteTxRequests") == "true"
        self.after_reply(lambda: self.start_session(id_tag, connector.id, authorize=authorize))
        return call_result.RemoteStartTransaction(status="Accepted")

    def on_remote_stop_transaction(self, transaction_id):
        session = self._find_session(transaction_id=transaction_id)
        if session is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.after_reply(lambda: self.stop_session("Remote", session.connector_id))
        return call_result.RemoteStopTransaction(status="Accepted")

    def on_reset(self, type):
        stop_reason = "HardReset" if type == "Hard" else "SoftReset"
        self.after_reply(lambda: self.reboot("RemoteReset", stop_reason))
        return call_result.Reset(status="Accepted")

    def on_unlock_connector(self, connector_id):
        connector = self.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status="NotSupported")
        if connector.session is not None:
            self.after_reply(lambda: self.stop_session("UnlockCommand", connector_id))
        return call_result.UnlockConnector(status="Unlocked")

    def on_change_availability(self, connector_id, type):
        return self._availability(connector_id, type == "Operative", call_result.ChangeAvailability)

    def on_get_configuration(self, key=None):
        entries, unknown = self.store.get(key)
        return call_result.GetConfiguration(
            configuration_key=entries or None, unknown_key=unknown or None
        )

    def on_change_configuration(self, key, value):
        return call_result.ChangeConfiguration(status=self.store.change(key, value))

    def _trigger_jobs(self, connector_id, *, signed: bool) -> dict:
        """What TriggerMessage (or, signed, ExtendedTriggerMessage) can ask for."""
        firmware = lambda: self._send_firmware_status(  # noqa: E731
            self._idle_unless_busy(self.firmware_status), signed=signed
        )
        jobs = {
            "BootNotification": self._triggered_boot,
            "Heartbeat": self.heartbeat,
            "StatusNotification": lambda: self._triggered_status(connector_id),
            "MeterValues": lambda: self._triggered_meter_values(connector_id),
            "FirmwareStatusNotification": firmware,
        }
        upload = self._idle_unless_busy(self.upload_status)
        if signed:
            jobs["LogStatusNotification"] = lambda: self._send_upload_status(upload, kind="log")
            jobs["SignChargePointCertificate"] = self.sign_certificate
        else:
            jobs["DiagnosticsStatusNotification"] = lambda: self._send_upload_status(
                upload, kind="diagnostics"
            )
        return jobs

    def on_trigger_message(self, requested_message, connector_id=None):
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        jobs = self._trigger_jobs(connector_id, signed=False)
        return self._trigger(jobs, requested_message, call_result.TriggerMessage)

    def on_extended_trigger_message(self, requested_message, connector_id=None):
        """The security extension's trigger: its own set of messages, the signed ones."""
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return call_result.ExtendedTriggerMessage(status="Rejected")
        jobs = self._trigger_jobs(connector_id, signed=True)
        return self._trigger(jobs, requested_message, call_result.ExtendedTriggerMessage)

    async def _triggered_status(self, connector_id):
        if connector_id in (None, 0):
            self._report_station(force=True)
        if connector_id == 0:
            return
        targets = [self.connectors[connector_id]] if connector_id else self.connectors.values()
        for connector in targets:
            self._report_status(connector, force=True)

    async def _triggered_meter_values(self, connector_id):
        targets = [connector_id] if connector_id else list(self.connectors)
        await asyncio.gather(*(self.send_meter_values(n, context="Trigger") for n in targets))

    def on_get_local_list_version(self):
        return call_result.GetLocalListVersion(list_version=self.local_list_version)

    def on_send_local_list(self, list_version, update_type, local_authorization_list=None):
        entries = [
            (entry["id_tag"], (entry.get("id_tag_info") or {}).get("status"))
            for entry in local_authorization_list or ()
        ]
        status = self._update_local_list(list_version, update_type, entries)
        return call_result.SendLocalList(status=status)

    def on_reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, **_):
        if connector_id == 0:
            return call_result.ReserveNow(status="Rejected")
        expires = parse_iso(expiry_date)
        if expires is None:
            return call_result.ReserveNow(status="Rejected")
        status, connector = self._reserve(reservation_id, connector_id, id_tag, expires)
        if connector is not None:
            self.after_reply(self._async(lambda: self._report_status(connector)))
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
        self.after_reply(lambda: self.update_firmware(location, parse_iso(retrieve_date)))
        return call_result.UpdateFirmware()

    def on_get_diagnostics(self, location, **_):
        filename = f"diagnostics-{self.id}-{now_utc():%Y%m%dT%H%M%SZ}.txt"
        self.after_reply(lambda: self.upload_diagnostics(location, filename, kind="diagnostics"))
        return call_result.GetDiagnostics(file_name=filename)

    def on_signed_update_firmware(self, request_id, firmware, **_):
        if self._refuses_signing_certificate(firmware["signing_certificate"]):
            return call_result.SignedUpdateFirmware(status="InvalidCertificate")
        location = firmware["location"]
        retrieve_at = parse_iso(firmware["retrieve_date_time"])
        self.after_reply(
            lambda: self.update_firmware(location, retrieve_at, request_id, signed=True)
        )
        return call_result.SignedUpdateFirmware(status="Accepted")

    def on_get_installed_certificate_ids(self, certificate_type):
        found = self.certificates.of_types([certificate_type])
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[c.hash_data for c in found]
        )
