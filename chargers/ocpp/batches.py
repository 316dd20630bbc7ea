"""Get/SetVariables, GetReport (and variable monitoring) in messages a 2.0.1 charger takes.

A charger says in its device model how many attributes one GetVariables or SetVariables may
name, and how many component-variables one GetReport (DeviceDataCtrlr.ItemsPerMessage,
instances GetVariables, SetVariables and GetReport) and how long one such message may be
(DeviceDataCtrlr.BytesPerMessage, same instances); MonitoringCtrlr says the same of
SetVariableMonitoring and ClearVariableMonitoring. A command that names more is sent as
several messages, one after the other, each within both limits, and the replies are joined in
the order of the command's attributes: the command record keeps the whole request and the
whole reply, so the pages, the API and `readers` see one outcome. A GetReport's parts keep the
command's requestId (its NotifyReports are one report to whoever reads them), and its replies,
a status each, become one status (`merge`). The consumer that runs the command (its own task,
never a request thread) does the sending.
"""

from __future__ import annotations

import json
from typing import Any

from chargers.models import DeviceModelVariable
from chargers.ocpp import JsonDict

# The actions a charger limits, with the list each request carries and each reply answers
# (None: the reply is one status for the whole request).
LIMITED: dict[str, tuple[str, str | None]] = {
    "GetVariables": ("getVariableData", "getVariableResult"),
    "GetReport": ("componentVariable", None),
    "SetVariables": ("setVariableData", "setVariableResult"),
    "SetVariableMonitoring": ("setMonitoringData", "setMonitoringResult"),
    "ClearVariableMonitoring": ("id", "clearMonitoringResult"),
}
# The component whose ItemsPerMessage and BytesPerMessage (instance: the action) limit it.
LIMITS_COMPONENT = {
    "GetVariables": "DeviceDataCtrlr",
    "SetVariables": "DeviceDataCtrlr",
    "GetReport": "DeviceDataCtrlr",
    "SetVariableMonitoring": "MonitoringCtrlr",
    "ClearVariableMonitoring": "MonitoringCtrlr",
}
ITEMS = "ItemsPerMessage"
BYTES = "BytesPerMessage"
# A CALL frame around a payload: [2,"<uuid4>","SetVariables",...]; generous, never short.
FRAME_OVERHEAD = 64


def message_limits(*, charger_id: int, action: str) -> tuple[int | None, int | None]:
    """(items, bytes) one `action` message to this charger may hold, as its device model
    says (Actual values); None for a limit it has not reported or reported unreadably. Run it
    in the charger's tenant scope."""
    if action not in LIMITED:
        return None, None
    rows = DeviceModelVariable.objects.filter(
        charger_id=charger_id,
        component=LIMITS_COMPONENT[action],
        component_instance="",
        evse_id=0,
        variable__in=(ITEMS, BYTES),
        variable_instance=action,
        attribute_type="Actual",
    ).values_list("variable", "value")
    limits = {variable: _positive(value) for variable, value in rows}
    return limits.get(ITEMS), limits.get(BYTES)


def _positive(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def split(
    action: str, payload: JsonDict, *, items: int | None, size: int | None = None
) -> list[JsonDict]:
    """`payload` as the payloads of the messages that carry it: one when it is within the
    limits (or `action` is not limited), else consecutive parts of its list, each of at most
    `items` entries and, where one entry fits, `size` bytes as a frame."""
    if action not in LIMITED:
        return [payload]
    data_key, _ = LIMITED[action]
    data = payload.get(data_key) or []
    parts: list[list[Any]] = []
    current: list[Any] = []
    length = 0
    for entry in data:
        entry_length = len(json.dumps(entry, separators=(",", ":"))) + 1
        full = items is not None and len(current) >= items
        too_long = size is not None and FRAME_OVERHEAD + length + entry_length > size
        if current and (full or too_long):
            parts.append(current)
            current, length = [], 0
        current.append(entry)
        length += entry_length
    if current:
        parts.append(current)
    if len(parts) <= 1:
        return [payload]
    return [{**payload, data_key: part} for part in parts]


# A GetReport's parts' statuses as one: the first of these any part answered (Accepted: the
# reports of that part follow; EmptyResultSet only when every part found nothing).
REPORT_STATUSES = ("Accepted", "Rejected", "NotSupported", "EmptyResultSet")


def merge(action: str, replies: list[JsonDict]) -> JsonDict:
    """The replies to the parts of a split command as one reply, results in order."""
    _, result_key = LIMITED[action]
    if result_key is None:
        statuses = [reply.get("status") for reply in replies]
        status = next((s for s in REPORT_STATUSES if s in statuses), statuses[0])
        return {"status": status}
    return {result_key: [result for reply in replies for result in reply.get(result_key) or []]}
