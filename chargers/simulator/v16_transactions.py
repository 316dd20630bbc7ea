"""Transactions on an OCPP 1.6 charger: Authorize, StartTransaction, MeterValues in the
transaction and StopTransaction with its transaction data; the CSMS starts and stops them with
RemoteStartTransaction and RemoteStopTransaction.

The transactionId is the CSMS's answer to StartTransaction, known only once it is delivered:
the messages after it are built when they are sent, so those queued offline carry it too.
Part of Charger16; sessions.py decides when a transaction begins, is sampled and ends.
"""

from __future__ import annotations

import math

from ocpp.v16 import call, call_result
from ocpp.v16.enums import Reason

from chargers.simulator.events import iso, now_utc
from chargers.simulator.keystore import ConfigurationStore
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import Reading, measurands, samples
from chargers.simulator.parts import ChargerPart
from chargers.simulator.state import Connector, Session

REASONS = {r.value for r in Reason}
# 2.0.1 stop reasons that callers may use with either version.
REASON_ALIASES = {"ImmediateReset": "HardReset", "StoppedByEV": "EVDisconnected"}


class Transactions16(ChargerPart):
    store: ConfigurationStore

    def _authorize_payload(self, session: Session):
        return call.Authorize(id_tag=session.id_tag)

    def _authorization_status(self, result) -> str | None:
        return None if result is None else result.id_tag_info.get("status")

    def _sampled_values(self, reading: Reading, wanted: list[str], context: str):
        values = []
        for measurand, value, phase, unit, location in samples(reading, wanted):
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
            # A register shows the whole watt-hours it has passed: never more than it read.
            meter_start=math.floor(reading.energy_wh),
            timestamp=iso(session.started_at),
            reservation_id=session.reservation_id,
        )

        def started(result) -> None:
            # Known only now, possibly long after the start when it was queued offline.
            session.transaction_id = result.transaction_id
            status = result.id_tag_info.get("status")
            invalid = status != "Accepted"
            if invalid and self.store.value("StopTransactionOnInvalidId") == "true":
                self.events.add("deauthorized", f"transaction {result.transaction_id}: {status}")
                self.sessions.finish(session, "DeAuthorized")

        def lost() -> None:
            session.start_failed = True

        return self.outbox.enqueue(
            "StartTransaction", lambda: payload, persistent=True, on_result=started, on_fail=lost
        )

    def _meter_sample(self, connector: Connector, reading: Reading, context: str):
        wanted = measurands(self.store.value("MeterValuesSampledData"))
        meter_value = [
            {
                "timestamp": iso(),
                "sampled_value": self._sampled_values(reading, wanted, context),
            }
        ]
        session = self.sessions.charging(connector)
        if session is None:
            payload = call.MeterValues(connector_id=connector.id, meter_value=meter_value)
            return self.outbox.enqueue("MeterValues", lambda: payload, persistent=False)

        def build():
            if session.transaction_id is None:
                return None  # its StartTransaction was given up: the CSMS has no id for it
            return call.MeterValues(
                connector_id=connector.id,
                meter_value=meter_value,
                transaction_id=session.transaction_id,
            )

        return self.outbox.enqueue("MeterValues", build, persistent=True)

    def _end_transaction(self, session: Session, reading: Reading, reason: str):
        reason = REASON_ALIASES.get(reason, reason)
        if reason not in REASONS:
            reason = "Other"
        stop_values = measurands(self.store.value("StopTxnSampledData"))
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

        return self.outbox.enqueue("StopTransaction", build, persistent=True)

    # --- commands ------------------------------------------------------------------------

    def on_remote_start_transaction(self, id_tag, connector_id=None, charging_profile=None):
        connector = self.sessions.free_connector(connector_id, id_tag)
        if connector is None:
            return call_result.RemoteStartTransaction(status="Rejected")
        if charging_profile is not None:
            if charging_profile.get("charging_profile_purpose") != "TxProfile":
                return call_result.RemoteStartTransaction(status="Rejected")
            self.limits.install(
                parse_profile(charging_profile, connector.id, now=self.now(), wall=now_utc())
            )
        authorize = self.store.value("AuthorizeRemoteTxRequests") == "true"
        self.commands.after_reply(
            lambda: self.start_session(id_tag, connector.id, authorize=authorize)
        )
        return call_result.RemoteStartTransaction(status="Accepted")

    def on_remote_stop_transaction(self, transaction_id):
        session = self.sessions.find(transaction_id=transaction_id)
        if session is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.commands.after_reply(lambda: self.stop_session("Remote", session.connector_id))
        return call_result.RemoteStopTransaction(status="Accepted")
