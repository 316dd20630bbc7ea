"""OCPP 2.0.1 variable monitors: what SetVariableMonitoring installs and reports list.

A monitor watches one variable of the device model (UpperThreshold, LowerThreshold, Delta,
Periodic, PeriodicClockAligned) at a severity from 0 (Danger) to 9 (Debug). The station keeps
them by id; GetMonitoringReport lists them, filtered by criteria and component/variable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
# GetMonitoringReport's monitoringCriteria and the monitor types each one selects.
CRITERIA = {
    "ThresholdMonitoring": ("UpperThreshold", "LowerThreshold"),
    "DeltaMonitoring": ("Delta",),
    "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
}


@dataclass
class Monitor:
    id: int
    component: dict
    variable: dict
    type: str
    value: float
    severity: int
    transaction: bool = False

    def entry(self) -> dict:
        return {
            "id": self.id,
            "transaction": self.transaction,
            "value": self.value,
            "type": self.type,
            "severity": self.severity,
        }


def refers_to(component: dict, variable: dict | None, wanted: dict) -> bool:
    """Whether component/variable is what a ComponentVariable of a request names."""
    if component["name"].lower() != wanted["component"]["name"].lower():
        return False
    evse = (wanted["component"].get("evse") or {}).get("id")
    if evse is not None and (component.get("evse") or {}).get("id") != evse:
        return False
    named = wanted.get("variable")
    return named is None or variable is None or variable["name"].lower() == named["name"].lower()


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _beyond(monitor: Monitor, value: float) -> bool:
    if monitor.type == "UpperThreshold":
        return value > monitor.value
    return value < monitor.value


def _watches(monitor: Monitor, variable) -> bool:
    component, watched = monitor.component, monitor.variable
    return (
        component["name"].lower() == variable.component.lower()
        and (component.get("evse") or {}).get("id") == variable.evse
        and watched["name"].lower() == variable.name.lower()
        and watched.get("instance") == variable.instance
    )


class Monitors:
    def __init__(self, problem: Callable[[dict, dict], str | None]):
        """problem(component, variable): UnknownComponent, UnknownVariable or None."""
        self.problem = problem
        self.monitors: dict[int, Monitor] = {}
        self.level = 9  # report events of every severity
        self._ids = itertools.count(1)

    def set(self, data: dict) -> dict:
        """One SetMonitoringResult for one SetMonitoringData (snake_case keys)."""
        component, variable = data["component"], data["variable"]
        result = {
            "status": "Accepted",
            "type": data["type"],
            "severity": data["severity"],
            "component": component,
            "variable": variable,
        }
        problem = self.problem(component, variable)
        if problem:
            return {**result, "status": problem}
        if data["type"] not in TYPES:
            return {**result, "status": "UnsupportedMonitorType"}
        if data["type"] == "Delta" and data["value"] < 0:
            return {**result, "status": "Rejected"}
        monitor_id = data.get("id")
        if monitor_id is not None and monitor_id not in self.monitors:
            # Replacing a monitor needs its id; a new one gets an id from the station.
            return {**result, "status": "Rejected"}
        monitor_id = monitor_id if monitor_id is not None else next(self._ids)
        self.monitors[monitor_id] = Monitor(
            monitor_id,
            component,
            variable,
            data["type"],
            float(data["value"]),
            int(data["severity"]),
            bool(data.get("transaction", False)),
        )
        return {**result, "id": monitor_id}

    def clear(self, ids: list[int]) -> list[dict]:
        return [
            {"status": "Accepted" if self.monitors.pop(i, None) else "NotFound", "id": i}
            for i in ids
        ]

    def set_base(self, base: str) -> str:
        """All keeps the custom monitors; FactoryDefault and HardWiredOnly remove them."""
        if base != "All":
            self.monitors.clear()
        return "Accepted"

    def set_level(self, severity: int) -> str:
        if not 0 <= severity <= 9:
            return "Rejected"
        self.level = severity
        return "Accepted"

    def triggered(self, variable, old: str, new: str) -> list[tuple[Monitor, str]]:
        """The monitors a change of `variable` (a keystore Variable) sets off, each with its
        NotifyEvent trigger: Delta, or Alerting for a threshold crossed."""
        fired = []
        for monitor in self.monitors.values():
            if monitor.severity > self.level or not _watches(monitor, variable):
                continue
            before, after = _number(old), _number(new)
            if monitor.type == "Delta":
                if before is not None and after is not None:
                    changed = abs(after - before) >= monitor.value
                else:
                    changed = old != new
                if changed:
                    fired.append((monitor, "Delta"))
            elif after is not None and monitor.type in ("UpperThreshold", "LowerThreshold"):
                # Alert when the value crosses the threshold, not again while it stays beyond.
                if _beyond(monitor, after) and not (
                    before is not None and _beyond(monitor, before)
                ):
                    fired.append((monitor, "Alerting"))
        return fired

    def report(self, criteria: list[str] | None, wanted: list[dict] | None) -> list[dict]:
        """MonitoringData entries: one per monitored variable, its monitors listed."""
        types = {t for c in criteria or () for t in CRITERIA.get(c, ())} if criteria else None
        grouped: dict[tuple, dict] = {}
        for monitor in self.monitors.values():
            if types is not None and monitor.type not in types:
                continue
            if wanted and not any(
                refers_to(monitor.component, monitor.variable, w) for w in wanted
            ):
                continue
            key = (repr(monitor.component), repr(monitor.variable))
            entry = grouped.setdefault(
                key,
                {
                    "component": monitor.component,
                    "variable": monitor.variable,
                    "variable_monitoring": [],
                },
            )
            entry["variable_monitoring"].append(monitor.entry())
        return list(grouped.values())
