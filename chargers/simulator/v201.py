"""An OCPP 2.0.1 charging station: its messages, its device model and its answers to commands.

Each simulated connector is an EVSE with one connector: EVSE n, connectorId 1.
Transactions are reported with TransactionEvent: Started (seqNo 0), Updated for every meter
sample, Ended; seqNo counts up per transaction, and events that happened while the station was
offline carry offline=true.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action, ReasonEnumType

from chargers.simulator.base import Connector, Offline, Reading, Session, SimulatedCharger
from chargers.simulator.events import iso, now_utc, parse_iso
from chargers.simulator.keystore import DeviceModel, Variable, format_seconds
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import MEASURANDS
from chargers.simulator.routing import routed

HANDLED = (
    Action.cancel_reservation,
    Action.change_availability,
    Action.clear_cache,
    Action.clear_charging_profile,
    Action.data_transfer,
    Action.get_base_report,
    Action.get_composite_schedule,
    Action.get_local_list_version,
    Action.get_log,
    Action.get_transaction_status,
    Action.get_variables,
    Action.request_start_transaction,
    Action.request_stop_transaction,
    Action.reserve_now,
    Action.reset,
    Action.send_local_list,
    Action.set_charging_profile,
    Action.set_variables,
    Action.trigger_message,
    Action.unlock_connector,
    Action.update_firmware,
)

RoutedChargePoint201 = routed(ChargePoint, HANDLED)

STOP_REASONS = {r.value for r in ReasonEnumType}
# 1.6 stop reasons that callers may use with either version.
REASON_ALIASES = {
    "HardReset": "ImmediateReset",
    "SoftReset": "ImmediateReset",
    "UnlockCommand": "Other",
}
TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "EVDisconnected": "EVCommunicationLost",
    "StoppedByEV": "EVCommunicationLost",
    "DeAuthorized": "Deauthorized",
    "ImmediateReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
}
FAULT_REASONS = {"GroundFailure": "GroundFault", "OverCurrentFailure": "OvercurrentFault"}
UPLOAD_STATUS = {"Idle": "Idle", "Uploading": "Uploading", "Uploaded": "Uploaded"}
REPORT_CHUNK = 10


class Charger201(SimulatedCharger):
    version = "2.0.1"
    installed_before_reboot = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._event_ids = itertools.count(1)

    def _make_store(self) -> DeviceModel:
        c = self.config
        measurands = ",".join(MEASURANDS)
        variables = [
            Variable("ChargingStation", "Model", c.model, "ReadOnly"),
            Variable("ChargingStation", "VendorName", c.vendor, "ReadOnly"),
            Variable("ChargingStation", "SerialNumber", c.serial, "ReadOnly"),
            Variable("ChargingStation", "AvailabilityState", "Available", "ReadOnly", "OptionList"),
            Variable(
                "OCPPCommCtrlr",
                "HeartbeatInterval",
                format_seconds(c.heartbeat_interval),
                data_type="integer",
                unit="s",
            ),
            Variable(
                "OCPPCommCtrlr",
                "MessageAttempts",
                str(c.message_attempts),
                data_type="integer",
                instance="TransactionEvent",
            ),
            Variable(
                "OCPPCommCtrlr",
                "MessageAttemptInterval",
                format_seconds(c.message_retry_interval),
                data_type="integer",
                instance="TransactionEvent",
                unit="s",
            ),
            Variable(
                "OCPPCommCtrlr",
                "WebSocketPingInterval",
                format_seconds(c.ping_interval),
                data_type="integer",
                unit="s",
            ),
            Variable("OCPPCommCtrlr", "OfflineThreshold", "60", data_type="integer", unit="s"),
            Variable("OCPPCommCtrlr", "ResetRetries", "1", data_type="integer"),
            Variable(
                "SampledDataCtrlr",
                "TxUpdatedInterval",
                format_seconds(c.meter_interval),
                data_type="integer",
                unit="s",
            ),
            Variable("SampledDataCtrlr", "TxUpdatedMeasurands", measurands, data_type="MemberList"),
            Variable(
                "SampledDataCtrlr",
                "TxStartedMeasurands",
                "Energy.Active.Import.Register",
                data_type="MemberList",
            ),
            Variable(
                "SampledDataCtrlr",
                "TxEndedMeasurands",
                "Energy.Active.Import.Register,SoC",
                data_type="MemberList",
            ),
            Variable("AlignedDataCtrlr", "Interval", "0", data_type="integer", unit="s"),
            Variable("AuthCtrlr", "AuthorizeRemoteStart", "false", data_type="boolean"),
            Variable("AuthCtrlr", "LocalAuthorizeOffline", "true", data_type="boolean"),
            Variable("AuthCtrlr", "LocalPreAuthorize", "false", data_type="boolean"),
            Variable("LocalAuthListCtrlr", "Enabled", "true", data_type="boolean"),
            Variable("LocalAuthListCtrlr", "Entries", "0", "ReadOnly", "integer"),
            Variable("TxCtrlr", "StopTxOnInvalidId", "true", data_type="boolean"),
            Variable("TxCtrlr", "EVConnectionTimeOut", "60", data_type="integer", unit="s"),
            Variable("ReservationCtrlr", "Enabled", "true", "ReadOnly", "boolean"),
            Variable("SmartChargingCtrlr", "Enabled", "true", "ReadOnly", "boolean"),
            Variable("SecurityCtrlr", "SecurityProfile", "1", "ReadOnly", "integer"),
            Variable("SecurityCtrlr", "Identity", self.id, "ReadOnly"),
            Variable("SecurityCtrlr", "BasicAuthPassword", "", "WriteOnly", "passwordString"),
            Variable(
                "DeviceDataCtrlr",
                "ItemsPerMessage",
                "50",
                "ReadOnly",
                "integer",
                instance="GetVariables",
            ),
            Variable(
                "DeviceDataCtrlr",
                "ItemsPerMessage",
                "50",
                "ReadOnly",
                "integer",
                instance="SetVariables",
            ),
        ]
        for n in range(1, c.connectors + 1):
            variables.append(
                Variable("EVSE", "AvailabilityState", "Available", "ReadOnly", "OptionList", n)
            )
            variables.append(
                Variable(
                    "EVSE", "Power", str(round(c.max_power_w)), "ReadOnly", "decimal", n, unit="W"
                )
            )
        return DeviceModel(variables, on_change=self._setting_changed)

    def _setting_changed(self, name: str, value: str) -> None:
        if name == "OCPPCommCtrlr.HeartbeatInterval":
            self._set_heartbeat_interval(int(value))
        elif name == "SampledDataCtrlr.TxUpdatedInterval":
            self.meter_interval = float(value)
        elif name == "OCPPCommCtrlr.MessageAttempts":
            self.message_attempts = int(value)
        elif name == "OCPPCommCtrlr.MessageAttemptInterval":
            self.message_retry_interval = float(value)
        elif name == "OCPPCommCtrlr.WebSocketPingInterval":
            self.ping_interval = float(value) or None
        elif name == "SecurityCtrlr.BasicAuthPassword":
            self.password = value
            self._event("password", "BasicAuthPassword changed; used from the next connection")

    def _set_heartbeat_interval(self, seconds: float) -> None:
        super()._set_heartbeat_interval(seconds)
        self.store.put("OCPPCommCtrlr", "HeartbeatInterval", format_seconds(seconds))

    def _make_cp(self, link):
        cp = RoutedChargePoint201(self.id, link, response_timeout=self.config.response_timeout)
        cp.sim = self
        return cp

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
            reason=self.boot_reason,
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
        state = "Available" if self.station_operative else "Unavailable"
        self.store.put("ChargingStation", "AvailabilityState", state)

    def _authorize_payload(self, session: Session):
        return call.Authorize(id_token=self._id_token(session))

    @staticmethod
    def _id_token(session: Session) -> dict:
        return {"id_token": session.id_tag, "type": session.tag_type}

    def _authorization_status(self, result) -> str | None:
        return None if result is None else result.id_token_info.get("status")

    def _meter_value(self, reading: Reading, measurands: list[str], context: str) -> dict:
        values = []
        for measurand, value, phase, unit, location in self._samples(reading, measurands):
            sampled = {
                "value": float(value),
                "context": context,
                "measurand": measurand,
                "location": location,
                "unit_of_measure": {"unit": unit},
            }
            if phase:
                sampled["phase"] = phase
            values.append(sampled)
        return {"timestamp": iso(), "sampled_value": values}

    def _measured(self, name: str) -> list[str]:
        return self._measurands(self.store.value("SampledDataCtrlr", name))

    def _transaction_event(
        self,
        session: Session,
        event_type: str,
        trigger_reason: str,
        meter_value: dict | None,
        *,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        id_token: bool = False,
        on_result=None,
    ):
        info: dict = {"transaction_id": session.transaction_id}
        if charging_state:
            info["charging_state"] = charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        if event_type == "Started" and session.remote_start_id is not None:
            info["remote_start_id"] = session.remote_start_id
        seq_no, session.seq_no = session.seq_no, session.seq_no + 1
        payload = call.TransactionEvent(
            event_type=event_type,
            timestamp=iso(),
            trigger_reason=trigger_reason,
            seq_no=seq_no,
            transaction_info=info,
            meter_value=[meter_value] if meter_value and meter_value["sampled_value"] else None,
            # Decided when the event happens, not when it is finally delivered.
            offline=True if not self.online else None,
            evse={"id": session.connector_id, "connector_id": 1}
            if event_type == "Started"
            else None,
            id_token=self._id_token(session) if id_token else None,
            reservation_id=session.reservation_id if event_type == "Started" else None,
        )
        return self._enqueue(
            "TransactionEvent", lambda: payload, persistent=True, on_result=on_result
        )

    def _begin_transaction(self, session: Session, reading: Reading):
        session.transaction_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        trigger = "RemoteStart" if session.remote_start_id is not None else "Authorized"

        def started(result) -> None:
            status = (result.id_token_info or {}).get("status", "Accepted")
            invalid = status != "Accepted"
            if invalid and self.store.value("TxCtrlr", "StopTxOnInvalidId") == "true":
                self._event("deauthorized", f"transaction {session.transaction_id}: {status}")
                self._finish_session(session, "DeAuthorized")

        return self._transaction_event(
            session,
            "Started",
            trigger,
            self._meter_value(reading, self._measured("TxStartedMeasurands"), "Transaction.Begin"),
            charging_state="Charging",
            id_token=True,
            on_result=started,
        )

    def _meter_sample(self, connector: Connector, reading: Reading, context: str):
        meter_value = self._meter_value(reading, self._measured("TxUpdatedMeasurands"), context)
        session = self._charging(connector)
        if session is None:
            payload = call.MeterValues(evse_id=connector.id, meter_value=[meter_value])
            return self._enqueue("MeterValues", lambda: payload, persistent=False)
        trigger = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
        state = "SuspendedEV" if connector.phase == "SuspendedEV" else "Charging"
        return self._transaction_event(
            session, "Updated", trigger, meter_value, charging_state=state
        )

    def _end_transaction(self, session: Session, reading: Reading, reason: str):
        reason = REASON_ALIASES.get(reason, reason)
        if reason not in STOP_REASONS:
            reason = "Other"
        trigger = TRIGGERS.get(reason, "AbnormalCondition")
        return self._transaction_event(
            session,
            "Ended",
            trigger,
            self._meter_value(reading, self._measured("TxEndedMeasurands"), "Transaction.End"),
            charging_state="Idle" if reason == "EVDisconnected" else "EVConnected",
            stopped_reason=reason,
            id_token=trigger == "StopAuthorized",
        )

    def _fault_stop_reason(self, error_code: str) -> str:
        return FAULT_REASONS.get(error_code, "Other")

    def _fault_notice(self, connector: Connector, error_code: str, active: bool) -> None:
        payload = call.NotifyEvent(
            generated_at=iso(),
            seq_no=0,
            event_data=[
                {
                    "event_id": next(self._event_ids),
                    "timestamp": iso(),
                    "trigger": "Delta",
                    "actual_value": "true" if active else "false",
                    "tech_code": error_code[:50],
                    "event_notification_type": "HardWiredNotification",
                    "cleared": None if active else True,
                    "component": {
                        "name": "Connector",
                        "evse": {"id": connector.id, "connector_id": 1},
                    },
                    "variable": {"name": "Problem"},
                }
            ],
        )
        self._enqueue("NotifyEvent", lambda: payload, persistent=False)

    def _reservation_ended(self, reservation, why: str) -> None:
        payload = call.ReservationStatusUpdate(
            reservation_id=reservation.id, reservation_update_status=why
        )
        self._enqueue("ReservationStatusUpdate", lambda: payload, persistent=False)

    def _firmware_payload(self, status: str):
        return call.FirmwareStatusNotification(status=status, request_id=self.firmware_request_id)

    def _upload_payload(self, outcome: str):
        return call.LogStatusNotification(
            status=UPLOAD_STATUS.get(outcome, "UploadFailure"), request_id=self.upload_request_id
        )

    # --- commands ------------------------------------------------------------------------

    def on_request_start_transaction(self, id_token, remote_start_id, evse_id=None, **extra):
        tag, kind = id_token["id_token"], id_token.get("type", "Central")
        connector = self._pick_connector(evse_id, tag)
        if connector is None:
            return call_result.RequestStartTransaction(status="Rejected")
        profile = extra.get("charging_profile")
        if profile is not None:
            self.limits.install(
                parse_profile(profile, connector.id, now=self._now(), wall=now_utc())
            )
        authorize = self.store.value("AuthCtrlr", "AuthorizeRemoteStart") == "true"
        self.after_reply(
            lambda: self.start_session(
                tag,
                connector.id,
                remote_start_id=remote_start_id,
                authorize=authorize,
                tag_type=kind,
            )
        )
        return call_result.RequestStartTransaction(status="Accepted")

    def on_request_stop_transaction(self, transaction_id, **_):
        session = self._find_session(transaction_id=transaction_id)
        if session is None:
            return call_result.RequestStopTransaction(status="Rejected")
        self.after_reply(lambda: self.stop_session("Remote", session.connector_id))
        return call_result.RequestStopTransaction(status="Accepted")

    def on_get_transaction_status(self, transaction_id=None, **_):
        pending = any(item.action == "TransactionEvent" for item in self._outbox)
        if transaction_id is None:
            return call_result.GetTransactionStatus(messages_in_queue=pending)
        ongoing = self._find_session(transaction_id=transaction_id) is not None
        return call_result.GetTransactionStatus(
            messages_in_queue=pending, ongoing_indicator=ongoing
        )

    def on_reset(self, type, evse_id=None, **_):
        if evse_id is not None:
            # Resetting a single EVSE is optional in 2.0.1; this station does not support it.
            return call_result.Reset(status="Rejected")
        if type == "OnIdle" and self.sessions:
            self._reset_when_idle = ("RemoteReset", "ImmediateReset")
            return call_result.Reset(status="Scheduled")
        self.after_reply(lambda: self.reboot("RemoteReset", "ImmediateReset"))
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
        if evse_id == 0:
            targets = list(self.connectors.values())
        elif evse_id in self.connectors:
            targets = [self.connectors[evse_id]]
        else:
            return call_result.ChangeAvailability(status="Rejected")
        operative = operational_status == "Operative"
        status = self._change_availability(targets, operative)
        if evse_id == 0:
            self.station_operative = operative
            self._report_station()

        async def report():
            for connector in targets:
                self._report_status(connector)

        self.after_reply(report)
        return call_result.ChangeAvailability(status=status)

    def on_get_variables(self, get_variable_data, **_):
        return call_result.GetVariables(
            get_variable_result=[self.store.get(item) for item in get_variable_data]
        )

    def on_set_variables(self, set_variable_data, **_):
        return call_result.SetVariables(
            set_variable_result=[self.store.set(item) for item in set_variable_data]
        )

    def on_get_base_report(self, request_id, report_base, **_):
        entries = self.store.report(report_base)
        if not entries:
            return call_result.GetBaseReport(status="EmptyResultSet")
        self.after_reply(lambda: self._notify_report(request_id, entries))
        return call_result.GetBaseReport(status="Accepted")

    async def _notify_report(self, request_id: int, entries: list[dict]) -> None:
        chunks = [entries[i : i + REPORT_CHUNK] for i in range(0, len(entries), REPORT_CHUNK)]
        futures = []
        for seq_no, chunk in enumerate(chunks):
            payload = call.NotifyReport(
                request_id=request_id,
                generated_at=iso(),
                seq_no=seq_no,
                report_data=chunk,
                tbc=seq_no < len(chunks) - 1,
            )
            futures.append(self._enqueue("NotifyReport", lambda p=payload: p, persistent=False))
        await asyncio.gather(*(self._settle(f) for f in futures))

    def on_trigger_message(self, requested_message, evse=None, **_):
        evse_id = (evse or {}).get("id")
        if evse_id is not None and evse_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self.registration == "Accepted":
            # F06.FR.17: a station that is registered already refuses to boot again on demand.
            return call_result.TriggerMessage(status="Rejected")
        jobs = {
            "BootNotification": self._triggered_boot,
            "Heartbeat": self.heartbeat,
            "StatusNotification": lambda: self._triggered_status(evse_id),
            "MeterValues": lambda: self._triggered_meter_values(evse_id, transactions=False),
            "TransactionEvent": lambda: self._triggered_meter_values(evse_id, transactions=True),
            "FirmwareStatusNotification": lambda: self._send_firmware_status(
                self._idle_unless_busy(self.firmware_status)
            ),
            "LogStatusNotification": lambda: self._send_upload_status(
                self._idle_unless_busy(self.upload_status)
            ),
        }
        job = jobs.get(requested_message)
        if job is None:
            return call_result.TriggerMessage(status="NotImplemented")
        self.after_reply(job)
        return call_result.TriggerMessage(status="Accepted")

    @staticmethod
    def _idle_unless_busy(status: str) -> str:
        busy = ("Downloading", "Downloaded", "Installing", "Uploading")
        return status if status in busy else "Idle"

    async def _triggered_boot(self):
        self.boot_reason = "Triggered"
        try:
            await self.boot()
        except Offline:
            self._boot_kick.set()

    async def _triggered_status(self, evse_id):
        targets = [self.connectors[evse_id]] if evse_id else self.connectors.values()
        for connector in targets:
            self._report_status(connector, force=True)

    async def _triggered_meter_values(self, evse_id, *, transactions: bool):
        futures = []
        for n in [evse_id] if evse_id else list(self.connectors):
            connector = self.connectors[n]
            if transactions:
                # TransactionEvent(Updated, Trigger) for each running transaction.
                if self._charging(connector):
                    futures.append(self._sample(connector, "Trigger"))
                continue
            reading = self._read(connector)
            meter_value = self._meter_value(
                reading, self._measured("TxUpdatedMeasurands"), "Trigger"
            )
            payload = call.MeterValues(evse_id=n, meter_value=[meter_value])
            futures.append(self._enqueue("MeterValues", lambda p=payload: p, persistent=False))
        await asyncio.gather(*(self._settle(f) for f in futures))

    def on_clear_cache(self, **_):
        return call_result.ClearCache(status="Accepted")

    def on_data_transfer(self, vendor_id, message_id=None, data=None, **_):
        if vendor_id != self.config.vendor:
            return call_result.DataTransfer(status="UnknownVendorId")
        return call_result.DataTransfer(status="Accepted", data=data)

    def on_get_local_list_version(self, **_):
        return call_result.GetLocalListVersion(version_number=self.local_list_version)

    def on_send_local_list(self, version_number, update_type, local_authorization_list=None, **_):
        entries = [
            (entry["id_token"]["id_token"], (entry.get("id_token_info") or {}).get("status"))
            for entry in local_authorization_list or ()
        ]
        status = self._update_local_list(version_number, update_type, entries)
        self.store.put("LocalAuthListCtrlr", "Entries", str(len(self.local_list)))
        return call_result.SendLocalList(status=status)

    def on_reserve_now(self, id, expiry_date_time, id_token, evse_id=None, **_):
        expires = parse_iso(expiry_date_time)
        if expires is None:
            return call_result.ReserveNow(status="Rejected")
        status, connector = self._reserve(id, evse_id, id_token["id_token"], expires)
        if connector is not None:

            async def report():
                self._report_status(connector)

            self.after_reply(report)
        return call_result.ReserveNow(status=status)

    def on_cancel_reservation(self, reservation_id, **_):
        connector = next(
            (
                c
                for c in self.connectors.values()
                if c.reservation and c.reservation.id == reservation_id
            ),
            None,
        )
        if connector is None or not self._cancel_reservation(reservation_id):
            return call_result.CancelReservation(status="Rejected")

        async def report():
            self._report_status(connector)

        self.after_reply(report)
        return call_result.CancelReservation(status="Accepted")

    def on_set_charging_profile(self, evse_id, charging_profile, **_):
        purpose = charging_profile.get("charging_profile_purpose")
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "TxProfile" and (evse_id == 0 or self.connectors[evse_id].session is None):
            return call_result.SetChargingProfile(status="Rejected")
        profile = parse_profile(charging_profile, evse_id, now=self._now(), wall=now_utc())
        self.limits.install(profile)
        cap = self.limits.cap_w(evse_id or 1, self._now())
        self._event("limit", f"profile {profile.id} on EVSE {evse_id}: cap {cap} W")
        return call_result.SetChargingProfile(status="Accepted")

    def on_clear_charging_profile(
        self, charging_profile_id=None, charging_profile_criteria=None, **_
    ):
        criteria = charging_profile_criteria or {}
        removed = self.limits.clear(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=criteria.get("charging_profile_purpose"),
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit=None, **_):
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "W"
        cap = self.limits.cap_w(evse_id or 1, self._now())
        limit_w = self.config.max_power_w if cap is None else cap
        limit = limit_w if unit == "W" else limit_w / (230.0 * 3)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": [{"start_period": 0, "limit": round(limit, 1)}],
            },
        )

    def on_update_firmware(self, request_id, firmware, **_):
        location = firmware["location"]
        retrieve_at = parse_iso(firmware.get("retrieve_date_time"))
        self.after_reply(lambda: self.update_firmware(location, retrieve_at, request_id))
        return call_result.UpdateFirmware(status="Accepted")

    def on_get_log(self, log, log_type, request_id, **_):
        filename = f"{log_type.lower()}-{self.id}-{now_utc():%Y%m%dT%H%M%SZ}.txt"
        location = log["remote_location"]
        self.after_reply(lambda: self.upload_diagnostics(location, filename, request_id))
        return call_result.GetLog(status="Accepted", filename=filename)
