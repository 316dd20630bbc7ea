"""Transactions on an OCPP 2.0.1 station, told with TransactionEvent: Started (seqNo 0),
Updated for every meter sample, Ended; seqNo counts up per transaction, and events that
happened while the station was offline carry offline=true. The CSMS starts and stops them with
RequestStartTransaction and RequestStopTransaction.

Part of Charger201; sessions.py decides when a transaction begins, is sampled and ends.
"""

from __future__ import annotations

import uuid

from ocpp.v201 import call, call_result
from ocpp.v201.enums import ReasonEnumType

from chargers.simulator.displays import DisplayMessages
from chargers.simulator.events import iso, now_utc
from chargers.simulator.keystore import DeviceModel
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import Reading, measurands, samples
from chargers.simulator.parts import ChargerPart
from chargers.simulator.state import Connector, Session

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


class Transactions201(ChargerPart):
    store: DeviceModel
    # Set by DeviceCommands201.
    displays: DisplayMessages
    costs: dict[str, float]
    shown: list[str]
    final_costs: dict[str, float]

    def _authorize_payload(self, session: Session):
        contract = getattr(self, "contract", None)
        if session.tag_type == "eMAID" and contract is not None and contract.installed:
            # C50/C51: the contract's chain and the OCSP data of its certificates.
            return call.Authorize(
                id_token=self._id_token(session),
                certificate=contract.chain_pem,
                iso15118_certificate_hash_data=contract.ocsp_data(),
            )
        return call.Authorize(id_token=self._id_token(session))

    @staticmethod
    def _id_token(session: Session) -> dict:
        return {"id_token": session.id_tag, "type": session.tag_type}

    def _authorization_status(self, result) -> str | None:
        if result is None:
            return None
        self._show_personal_message(result.id_token_info)
        return result.id_token_info.get("status")

    def _show_personal_message(self, info: dict | None) -> None:
        """I01/I02: the driver's price the CSMS sent with its verdict on the token, shown."""
        message = (info or {}).get("personal_message")
        if message:
            self.shown.append(message["content"])
            self.events.add("display", f"personal message: {message['content'][:60]}")

    def _meter_value(self, reading: Reading, wanted: list[str], context: str) -> dict:
        values = []
        for measurand, value, phase, unit, location in samples(reading, wanted):
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
        return measurands(self.store.value("SampledDataCtrlr", name))

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
        return self.outbox.enqueue(
            "TransactionEvent", lambda: payload, persistent=True, on_result=on_result
        )

    def _begin_transaction(self, session: Session, reading: Reading):
        # Random in every run, not drawn from the charger's seeded generator: a seed repeats
        # the load pattern, and a restarted simulator would repeat its transaction ids too,
        # which a CSMS takes for resends of the old transactions (2.0.1 finds duplicates by
        # transactionId and seqNo). A UUID is 36 characters, the most 2.0.1 allows.
        session.transaction_id = str(uuid.uuid4())
        trigger = "RemoteStart" if session.remote_start_id is not None else "Authorized"

        def started(result) -> None:
            self._show_personal_message(result.id_token_info)
            status = (result.id_token_info or {}).get("status", "Accepted")
            invalid = status != "Accepted"
            if invalid and self.store.value("TxCtrlr", "StopTxOnInvalidId") == "true":
                self.events.add("deauthorized", f"transaction {session.transaction_id}: {status}")
                self.sessions.finish(session, "DeAuthorized")

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
        session = self.sessions.charging(connector)
        if session is None:
            payload = call.MeterValues(evse_id=connector.id, meter_value=[meter_value])
            return self.outbox.enqueue("MeterValues", lambda: payload, persistent=False)
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
        # A 2.0.1 transaction id is the charger's own string, drawn when the transaction began.
        transaction_id = str(session.transaction_id)
        self.displays.end_transaction(transaction_id)
        self.costs.pop(transaction_id, None)
        return self._transaction_event(
            session,
            "Ended",
            trigger,
            self._meter_value(reading, self._measured("TxEndedMeasurands"), "Transaction.End"),
            charging_state="Idle" if reason == "EVDisconnected" else "EVConnected",
            stopped_reason=reason,
            id_token=trigger == "StopAuthorized",
            on_result=lambda result: self._show_final_cost(transaction_id, result.total_cost),
        )

    def _show_final_cost(self, transaction_id: str, total_cost) -> None:
        if total_cost is not None:
            self.final_costs[transaction_id] = float(total_cost)
            self.events.add("cost", f"transaction {transaction_id}: total {total_cost}")
            self.notify()

    # --- commands ------------------------------------------------------------------------

    def on_request_start_transaction(self, id_token, remote_start_id, evse_id=None, **extra):
        tag, kind = id_token["id_token"], id_token.get("type", "Central")
        connector = self.sessions.free_connector(evse_id, tag)
        if connector is None:
            return call_result.RequestStartTransaction(status="Rejected")
        profile = extra.get("charging_profile")
        if profile is not None:
            self.limits.install(
                parse_profile(profile, connector.id, now=self.now(), wall=now_utc())
            )
        authorize = self.store.value("AuthCtrlr", "AuthorizeRemoteStart") == "true"
        self.commands.after_reply(
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
        session = self.sessions.find(transaction_id=transaction_id)
        if session is None:
            return call_result.RequestStopTransaction(status="Rejected")
        self.commands.after_reply(lambda: self.stop_session("Remote", session.connector_id))
        return call_result.RequestStopTransaction(status="Accepted")

    def on_get_transaction_status(self, transaction_id=None, **_):
        pending = self.outbox.holds("TransactionEvent")
        if transaction_id is None:
            return call_result.GetTransactionStatus(messages_in_queue=pending)
        ongoing = self.sessions.find(transaction_id=transaction_id) is not None
        return call_result.GetTransactionStatus(
            messages_in_queue=pending, ongoing_indicator=ongoing
        )
