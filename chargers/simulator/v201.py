"""An OCPP 2.0.1 charging station: its messages, its device model and its answers to commands.

Each simulated connector is an EVSE with one connector: EVSE n, connectorId 1.
Transactions are reported with TransactionEvent: Started (seqNo 0), Updated for every meter
sample, Ended; seqNo counts up per transaction, and events that happened while the station was
offline carry offline=true.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import uuid
from datetime import timedelta

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action, ReasonEnumType

from chargers.simulator.base import Connector, Reading, Session, SimulatedCharger
from chargers.simulator.displays import DisplayMessages
from chargers.simulator.events import iso, now_utc, parse_iso
from chargers.simulator.factory_settings import device_model
from chargers.simulator.keystore import DeviceModel, format_seconds
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES
from chargers.simulator.monitoring import Monitors, refers_to
from chargers.simulator.routing import routed

HANDLED = (
    Action.cancel_reservation,
    Action.certificate_signed,
    Action.change_availability,
    Action.clear_cache,
    Action.clear_charging_profile,
    Action.clear_display_message,
    Action.clear_variable_monitoring,
    Action.cost_updated,
    Action.customer_information,
    Action.data_transfer,
    Action.delete_certificate,
    Action.get_base_report,
    Action.get_charging_profiles,
    Action.get_composite_schedule,
    Action.get_display_messages,
    Action.get_installed_certificate_ids,
    Action.get_local_list_version,
    Action.get_log,
    Action.get_monitoring_report,
    Action.get_report,
    Action.get_transaction_status,
    Action.get_variables,
    Action.install_certificate,
    Action.publish_firmware,
    Action.request_start_transaction,
    Action.request_stop_transaction,
    Action.reserve_now,
    Action.reset,
    Action.send_local_list,
    Action.set_charging_profile,
    Action.set_display_message,
    Action.set_monitoring_base,
    Action.set_monitoring_level,
    Action.set_network_profile,
    Action.set_variable_monitoring,
    Action.set_variables,
    Action.trigger_message,
    Action.unlock_connector,
    Action.unpublish_firmware,
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
# What GetReport's componentCriteria select: the variables of that name.
CRITERIA_VARIABLES = {"Active", "Available", "Enabled", "Problem"}
# The contract (eMAID) certificate an ISO 15118 car presents, as OCSP request data.
CONTRACT_OCSP = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "0" * 64,
    "issuer_key_hash": "1" * 64,
    "serial_number": "5EC0DE",
    "responder_url": "http://ocsp.example/",
}
EXTERNAL_PROFILE_ID = 9000


class Charger201(SimulatedCharger):
    version = "2.0.1"
    calls = call
    results = call_result
    routed_cp = RoutedChargePoint201
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
        self._event_ids = itertools.count(1)
        self.monitors = Monitors(self.store.problem)
        self.store.on_value = self._value_changed
        self.displays = DisplayMessages()
        self.network_profiles: dict[int, dict] = {}
        self.costs: dict[str, float] = {}  # transaction id -> running cost the CSMS sent
        self.published: str | None = None  # checksum of the firmware this station publishes
        self.publish_status = "Idle"
        self.publish_request_id: int | None = None

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
        # What was shown for the transaction (messages, the running cost) goes with it.
        self.displays.end_transaction(session.transaction_id)
        self.costs.pop(session.transaction_id, None)
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

    def _firmware_payload(self, status: str, signed: bool):
        return call.FirmwareStatusNotification(status=status, request_id=self.firmware_request_id)

    def _sign_certificate_payload(self, csr: str, certificate_type: str | None):
        return call.SignCertificate(csr=csr, certificate_type=certificate_type)

    # --- ISO 15118 cars ---------------------------------------------------------------------

    def _car_plugged(self, session: Session) -> None:
        # Plug & Charge: the car asks for its contract certificate through the station, and
        # the station checks the contract's revocation status before authorising it.
        exi = base64.b64encode(f"CertificateInstallationReq {session.id_tag}".encode()).decode()
        install = call.Get15118EVCertificate(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
            action="Install",
            exi_request=exi,
        )
        status = call.GetCertificateStatus(ocsp_request_data=CONTRACT_OCSP)
        self._enqueue("Get15118EVCertificate", lambda: install, persistent=False)
        self._enqueue("GetCertificateStatus", lambda: status, persistent=False)

    def _car_charging(self, session: Session) -> None:
        vehicle = session.vehicle
        needed = vehicle.capacity_wh * (100 - vehicle.soc_start) / 100
        max_current = vehicle.max_power_w / (NOMINAL_VOLTAGE * PHASES)
        needs = {
            "requested_energy_transfer": "AC_three_phase",
            "ac_charging_parameters": {
                "energy_amount": round(needed),
                "ev_min_current": 6,
                "ev_max_current": round(max_current),
                "ev_max_voltage": 400,
            },
        }
        if session.duration is not None:
            # The driver leaves when the session is planned to end.
            needs["departure_time"] = iso(session.started_at + timedelta(seconds=session.duration))
        payload = call.NotifyEVChargingNeeds(
            evse_id=session.connector_id, max_schedule_tuples=24, charging_needs=needs
        )
        self._enqueue("NotifyEVChargingNeeds", lambda: payload, persistent=False)

    async def _ev_schedule(self, evse_id: int) -> None:
        """The car picked its schedule within the limit it was given (ISO 15118 renegotiation)."""
        connector = self.connectors[evse_id]
        session = connector.session
        if session is None or not session.iso15118:
            return
        cap = self.limits.cap_w(evse_id, self._now())
        limit = min(
            session.vehicle.max_power_w, cap if cap is not None else self.config.max_power_w
        )
        payload = call.NotifyEVChargingSchedule(
            time_base=iso(),
            evse_id=evse_id,
            charging_schedule={
                "id": session.number,
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": round(limit, 1)}],
            },
        )
        await self._settle(
            self._enqueue("NotifyEVChargingSchedule", lambda: payload, persistent=False)
        )

    def _incident_kinds(self):
        # A local energy manager caps the station for a while, then lifts the cap.
        limited = any(p.source != "CSO" for p in self.limits.profiles)
        cap = round(self.config.max_power_w * self.rng.choice((0.25, 0.5, 0.75)))
        local = (lambda: self.limit_locally(None)) if limited else (lambda: self.limit_locally(cap))
        return [*super()._incident_kinds(), local]

    # --- local limits ---------------------------------------------------------------------

    async def limit_locally(self, limit_w: float | None, evse_id: int = 0, source: str = "EMS"):
        """A local energy manager caps the power (None lifts its cap); the CSMS is told.

        evse_id 0 means the whole station.
        """
        if limit_w is None:
            self.limits.clear(profile_id=EXTERNAL_PROFILE_ID + evse_id)
            self._event("limit", f"{source} limit on EVSE {evse_id} lifted")
            payload = call.ClearedChargingLimit(
                charging_limit_source=source, evse_id=evse_id or None
            )
        else:
            schedule = {
                "id": EXTERNAL_PROFILE_ID + evse_id,
                "charging_rate_unit": "W",
                "start_schedule": iso(),
                "charging_schedule_period": [{"start_period": 0, "limit": float(limit_w)}],
            }
            profile = {
                "id": EXTERNAL_PROFILE_ID + evse_id,
                "stack_level": 0,
                "charging_profile_purpose": "ChargingStationExternalConstraints",
                "charging_profile_kind": "Absolute",
                "charging_schedule": [schedule],
            }
            wall = now_utc()
            self.limits.install(
                parse_profile(profile, evse_id, now=self._now(), wall=wall, source=source)
            )
            self._event("limit", f"{source} caps EVSE {evse_id} at {limit_w:g} W")
            payload = call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": source, "is_grid_critical": False},
                charging_schedule=[schedule],
                evse_id=evse_id or None,
            )
        return await self._settle(
            self._enqueue(type(payload).__name__, lambda: payload, persistent=False)
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
        return self._availability(
            evse_id, operational_status == "Operative", call_result.ChangeAvailability
        )

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
        self._notify_report(request_id, entries)
        return call_result.GetBaseReport(status="Accepted")

    def on_get_report(self, request_id, component_variable=None, component_criteria=None, **_):
        entries = [
            entry
            for entry in self.store.report("FullInventory")
            if (
                not component_variable
                or any(
                    refers_to(entry["component"], entry["variable"], w) for w in component_variable
                )
            )
            and (
                not component_criteria
                or (
                    entry["variable"]["name"] in CRITERIA_VARIABLES
                    and entry["variable"]["name"] in component_criteria
                )
            )
        ]
        if not entries:
            return call_result.GetReport(status="EmptyResultSet")
        self._notify_report(request_id, entries)
        return call_result.GetReport(status="Accepted")

    def _notify_report(self, request_id: int, entries: list[dict]) -> None:
        self._report_after_reply(
            "NotifyReport",
            entries,
            lambda seq_no, part, tbc: call.NotifyReport(
                request_id=request_id,
                generated_at=iso(),
                seq_no=seq_no,
                report_data=part,
                tbc=tbc,
            ),
        )

    # --- monitoring -------------------------------------------------------------------------

    def _value_changed(self, variable, old: str, new: str) -> None:
        """A monitored variable changed: tell the CSMS with NotifyEvent, as monitors do."""
        fired = self.monitors.triggered(variable, old, new)
        if not fired:
            return
        event_data = [
            {
                "event_id": next(self._event_ids),
                "timestamp": iso(),
                "trigger": trigger,
                "actual_value": new[:2500],
                "event_notification_type": "CustomMonitor",
                "variable_monitoring_id": monitor.id,
                "transaction_id": self.sessions[0].transaction_id
                if monitor.transaction and self.sessions
                else None,
                "component": variable.component_ref(),
                "variable": variable.variable_ref(),
            }
            for monitor, trigger in fired
        ]
        payload = call.NotifyEvent(generated_at=iso(), seq_no=0, event_data=event_data)
        self._enqueue("NotifyEvent", lambda: payload, persistent=False)

    def on_set_variable_monitoring(self, set_monitoring_data, **_):
        return call_result.SetVariableMonitoring(
            set_monitoring_result=[self.monitors.set(item) for item in set_monitoring_data]
        )

    def on_clear_variable_monitoring(self, id, **_):
        return call_result.ClearVariableMonitoring(clear_monitoring_result=self.monitors.clear(id))

    def on_set_monitoring_base(self, monitoring_base, **_):
        return call_result.SetMonitoringBase(status=self.monitors.set_base(monitoring_base))

    def on_set_monitoring_level(self, severity, **_):
        return call_result.SetMonitoringLevel(status=self.monitors.set_level(severity))

    def on_get_monitoring_report(
        self, request_id, monitoring_criteria=None, component_variable=None, **_
    ):
        entries = self.monitors.report(monitoring_criteria, component_variable)
        if not entries:
            return call_result.GetMonitoringReport(status="EmptyResultSet")
        self._report_after_reply(
            "NotifyMonitoringReport",
            entries,
            lambda seq_no, part, tbc: call.NotifyMonitoringReport(
                request_id=request_id,
                seq_no=seq_no,
                generated_at=iso(),
                monitor=part,
                tbc=tbc,
            ),
        )
        return call_result.GetMonitoringReport(status="Accepted")

    # --- display messages, costs, customers, network ------------------------------------------

    def on_set_display_message(self, message, **_):
        known = lambda tx: self._find_session(transaction_id=tx) is not None  # noqa: E731
        status = self.displays.set(message, known)
        if status == "Accepted":
            self._event("display", f"message {message['id']}: {message['message']['content'][:60]}")
        return call_result.SetDisplayMessage(status=status)

    def on_get_display_messages(self, request_id, id=None, priority=None, state=None, **_):
        found = self.displays.find(id, priority, state)
        if not found:
            return call_result.GetDisplayMessages(status="Unknown")
        self._report_after_reply(
            "NotifyDisplayMessages",
            found,
            lambda seq_no, part, tbc: call.NotifyDisplayMessages(
                request_id=request_id, message_info=part, tbc=tbc
            ),
        )
        return call_result.GetDisplayMessages(status="Accepted")

    def on_clear_display_message(self, id, **_):
        return call_result.ClearDisplayMessage(status=self.displays.clear(id))

    def on_cost_updated(self, total_cost, transaction_id, **_):
        self.costs[transaction_id] = float(total_cost)
        self._event("cost", f"transaction {transaction_id}: {total_cost}")
        return call_result.CostUpdated()

    def on_customer_information(
        self, request_id, report, clear, id_token=None, customer_identifier=None, **extra
    ):
        if not report and not clear:
            return call_result.CustomerInformation(status="Rejected")
        tag = (id_token or {}).get("id_token") or customer_identifier
        if tag is None and extra.get("customer_certificate") is None:
            return call_result.CustomerInformation(status="Invalid")
        lines = self._customer_data(tag)
        if clear and tag is not None:
            self.local_list.pop(tag, None)
            lines.append(f"{tag}: cleared from the local list and the authorization cache")
        self._event("customer", f"{tag or 'certificate'}: report={report} clear={clear}")
        self._report_after_reply(
            "NotifyCustomerInformation",
            lines,
            lambda seq_no, part, tbc: call.NotifyCustomerInformation(
                data="; ".join(part)[:512],
                seq_no=seq_no,
                generated_at=iso(),
                request_id=request_id,
                tbc=tbc,
            ),
        )
        return call_result.CustomerInformation(status="Accepted")

    def _customer_data(self, tag: str | None) -> list[str]:
        if tag is None:
            return ["no data is kept per customer certificate"]
        lines = [f"{tag}: local list {self.local_list.get(tag, 'absent')}"]
        lines += [
            f"{tag}: charging on EVSE {s.connector_id}, transaction {s.transaction_id}"
            for s in self.sessions
            if s.id_tag == tag
        ]
        return lines

    def on_set_network_profile(self, configuration_slot, connection_data, **_):
        current = int(self.store.value("SecurityCtrlr", "SecurityProfile"))
        if connection_data["security_profile"] < current:
            # A station never lowers its security profile (A05.FR.06 in spirit).
            return call_result.SetNetworkProfile(status="Rejected")
        self.network_profiles[configuration_slot] = connection_data
        self._event("network", f"slot {configuration_slot}: {connection_data['ocpp_csms_url']}")
        return call_result.SetNetworkProfile(status="Accepted")

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
            "SignChargingStationCertificate": lambda: self.sign_certificate(
                "ChargingStationCertificate"
            ),
            "SignV2GCertificate": lambda: self.sign_certificate("V2GCertificate"),
            "PublishFirmwareStatusNotification": lambda: self._send_publish_status(
                self.publish_status
            ),
        }
        return self._trigger(jobs, requested_message, call_result.TriggerMessage)

    async def _triggered_boot(self):
        self.boot_reason = "Triggered"
        await super()._triggered_boot()

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
            self.after_reply(self._async(lambda: self._report_status(connector)))
        return call_result.ReserveNow(status=status)

    def on_set_charging_profile(self, evse_id, charging_profile, **_):
        purpose = charging_profile.get("charging_profile_purpose")
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "TxProfile" and (evse_id == 0 or self.connectors[evse_id].session is None):
            return call_result.SetChargingProfile(status="Rejected")
        self._install_profile(charging_profile, evse_id)
        # An ISO 15118 car renegotiates its schedule within the new limit.
        for n in [evse_id] if evse_id else list(self.connectors):
            if (session := self.connectors[n].session) is not None and session.iso15118:
                self.after_reply(lambda n=n: self._ev_schedule(n))
                break
        return call_result.SetChargingProfile(status="Accepted")

    def on_get_charging_profiles(self, request_id, charging_profile, evse_id=None, **_):
        wanted = charging_profile
        ids = wanted.get("charging_profile_id")
        sources = wanted.get("charging_limit_source")
        found = [
            p
            for p in self.limits.profiles
            if p.raw is not None
            and (evse_id is None or p.connector_id == evse_id)
            and (not ids or p.id in ids)
            and (not sources or p.source in sources)
            and wanted.get("charging_profile_purpose") in (None, p.purpose)
            and wanted.get("stack_level") in (None, p.stack_level)
        ]
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        groups: dict[tuple[int, str], list] = {}
        for p in found:
            groups.setdefault((p.connector_id, p.source), []).append(p.raw)

        async def report():
            futures = []
            for index, ((evse, source), profiles) in enumerate(groups.items()):
                payload = call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source=source,
                    evse_id=evse,
                    charging_profile=profiles,
                    tbc=index < len(groups) - 1,
                )
                futures.append(
                    self._enqueue("ReportChargingProfiles", lambda p=payload: p, persistent=False)
                )
            await asyncio.gather(*(self._settle(f) for f in futures))

        self.after_reply(report)
        return call_result.GetChargingProfiles(status="Accepted")

    def on_clear_charging_profile(
        self, charging_profile_id=None, charging_profile_criteria=None, **_
    ):
        criteria = charging_profile_criteria or {}
        status = self._clear_profiles(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=criteria.get("charging_profile_purpose"),
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit=None, **_):
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "W"
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": [
                    {"start_period": 0, "limit": self._composite_limit(evse_id, unit)}
                ],
            },
        )

    def on_update_firmware(self, request_id, firmware, **_):
        if self._refuses_signing_certificate(firmware.get("signing_certificate")):
            return call_result.UpdateFirmware(status="InvalidCertificate")
        location = firmware["location"]
        retrieve_at = parse_iso(firmware.get("retrieve_date_time"))
        signed = bool(firmware.get("signature"))
        self.after_reply(
            lambda: self.update_firmware(location, retrieve_at, request_id, signed=signed)
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
        if self.publish_status in ("Downloading", "Downloaded"):
            return call_result.PublishFirmware(status="Rejected")
        self.publish_request_id = request_id
        self.after_reply(lambda: self.publish_firmware(location, checksum))
        return call_result.PublishFirmware(status="Accepted")

    async def publish_firmware(self, location: str, checksum: str) -> None:
        """Download the file, verify its checksum and serve it to the local stations."""
        step = self.config.firmware_step_seconds
        await self._send_publish_status("Downloading")
        await asyncio.sleep(step)
        if self.rng.random() < self.config.firmware_failure_rate:
            await self._send_publish_status("InvalidChecksum")
            return
        await self._send_publish_status("Downloaded")
        await self._send_publish_status("ChecksumVerified")
        self.published = checksum
        name = location.rstrip("/").rsplit("/", 1)[-1] or "firmware.bin"
        served = [f"http://{self.id.lower()}.local/firmware/{name}"[:512]]
        await self._send_publish_status("Published", served)

    async def _send_publish_status(self, status: str, location: list[str] | None = None):
        self.publish_status = status
        self._event("publish", status)
        if status == "Published" and location is None:
            location = [f"http://{self.id.lower()}.local/firmware/"]
        payload = call.PublishFirmwareStatusNotification(
            status=status, location=location, request_id=self.publish_request_id
        )
        await self._settle(
            self._enqueue("PublishFirmwareStatusNotification", lambda: payload, persistent=False)
        )

    def on_unpublish_firmware(self, checksum, **_):
        if self.publish_status in ("Downloading", "Downloaded"):
            return call_result.UnpublishFirmware(status="DownloadOngoing")
        if self.published != checksum:
            return call_result.UnpublishFirmware(status="NoFirmware")
        self.published, self.publish_status = None, "Idle"
        return call_result.UnpublishFirmware(status="Unpublished")
