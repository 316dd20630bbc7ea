"""What an OCPP 2.0.1 station is asked about itself: its device model (GetVariables,
SetVariables, reports), variable monitors and the NotifyEvent they fire, display messages,
running costs, customer data and network profiles.

Part of Charger201; the device model is keystore.py's DeviceModel, monitors are monitoring.py's.
"""

from __future__ import annotations

import itertools

from ocpp.v201 import call, call_result

from chargers.simulator.displays import DisplayMessages
from chargers.simulator.events import iso
from chargers.simulator.keystore import DeviceModel
from chargers.simulator.monitoring import Monitors, refers_to
from chargers.simulator.parts import ChargerPart
from chargers.simulator.state import Connector

# What GetReport's componentCriteria select: the variables of that name.
CRITERIA_VARIABLES = {"Active", "Available", "Enabled", "Problem"}


class DeviceCommands201(ChargerPart):
    store: DeviceModel

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._event_ids = itertools.count(1)  # NotifyEvent's eventId
        self.monitors = Monitors(self.store.problem)
        self.store.on_value = self._value_changed
        self.displays = DisplayMessages()
        self.costs: dict[str, float] = {}  # transaction id -> running cost the CSMS sent
        self.network_profiles: dict[int, dict] = {}

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
        return self._notify_report(call_result.GetBaseReport, request_id, entries)

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
        return self._notify_report(call_result.GetReport, request_id, entries)

    def _notify_report(self, reply, request_id: int, entries: list[dict]):
        return self.commands.answer_with_report(
            reply,
            "EmptyResultSet",
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

    # --- events and monitoring ----------------------------------------------------------------

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
        self.outbox.put(payload)

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
        self.outbox.put(payload)

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
        return self.commands.answer_with_report(
            call_result.GetMonitoringReport,
            "EmptyResultSet",
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

    # --- display messages, costs, customers, network ------------------------------------------

    def on_set_display_message(self, message, **_):
        known = lambda tx: self.sessions.find(transaction_id=tx) is not None  # noqa: E731
        status = self.displays.set(message, known)
        if status == "Accepted":
            self.events.add(
                "display", f"message {message['id']}: {message['message']['content'][:60]}"
            )
        return call_result.SetDisplayMessage(status=status)

    def on_get_display_messages(self, request_id, id=None, priority=None, state=None, **_):
        return self.commands.answer_with_report(
            call_result.GetDisplayMessages,
            "Unknown",
            "NotifyDisplayMessages",
            self.displays.find(id, priority, state),
            lambda seq_no, part, tbc: call.NotifyDisplayMessages(
                request_id=request_id, message_info=part, tbc=tbc
            ),
        )

    def on_clear_display_message(self, id, **_):
        return call_result.ClearDisplayMessage(status=self.displays.clear(id))

    def on_cost_updated(self, total_cost, transaction_id, **_):
        self.costs[transaction_id] = float(total_cost)
        self.running_costs.append((transaction_id, float(total_cost)))
        self.notify()
        self.events.add("cost", f"transaction {transaction_id}: {total_cost}")
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
            self.local_list.remove(tag)
            lines.append(f"{tag}: cleared from the local list and the authorization cache")
        self.events.add("customer", f"{tag or 'certificate'}: report={report} clear={clear}")
        self.commands.report_after_reply(
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
        self.events.add("network", f"slot {configuration_slot}: {connection_data['ocpp_csms_url']}")
        return call_result.SetNetworkProfile(status="Accepted")
