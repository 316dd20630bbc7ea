"""OCPP 1.6J payloads the load generator sends, built as plain dicts (camelCase, as on the wire).

The load generator speaks raw frames rather than the `ocpp` library's charge-point side: the
library validates every outgoing and incoming message against its schemas, which would make the
load generator, not the server, the bottleneck. The payloads are valid OCPP 1.6 all the same.
"""

from __future__ import annotations

from datetime import UTC, datetime

BOOT = {
    "chargePointVendor": "Bench",
    "chargePointModel": "Load-1",
    "chargePointSerialNumber": "BENCH-SERIAL",
    "firmwareVersion": "1.0.0",
}
# What a charger answers to the benchmark's command (GetConfiguration of one key).
COMMAND_ACTION = "GetConfiguration"
COMMAND_PAYLOAD = {"key": ["HeartbeatInterval"]}
CONFIGURATION_REPLY = {
    "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
    "unknownKey": [],
}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meter_values(*, connector_id: int, transaction_id: int | None, energy_wh: int) -> dict:
    """One MeterValues with nine sampled values: energy, power, current and voltage per phase,
    and state of charge, the mix a real AC charger reports."""
    sampled = [
        {"value": str(energy_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
    ]
    for phase in ("L1", "L2", "L3"):
        sampled.append(
            {"value": "16.0", "measurand": "Current.Import", "phase": phase, "unit": "A"}
        )
        sampled.append(
            {"value": "230.0", "measurand": "Voltage", "phase": f"{phase}-N", "unit": "V"}
        )
    sampled.append({"value": "57", "measurand": "SoC", "unit": "Percent", "location": "EV"})
    payload: dict = {
        "connectorId": connector_id,
        "meterValue": [{"timestamp": now(), "sampledValue": sampled}],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


def start_transaction(*, connector_id: int, id_tag: str, meter_start: int) -> dict:
    return {
        "connectorId": connector_id,
        "idTag": id_tag,
        "meterStart": meter_start,
        "timestamp": now(),
    }


def stop_transaction(*, transaction_id: int, id_tag: str, meter_stop: int) -> dict:
    return {
        "transactionId": transaction_id,
        "idTag": id_tag,
        "meterStop": meter_stop,
        "timestamp": now(),
        "reason": "EVDisconnected",
    }


def answer_to(action: str, payload: dict) -> dict | None:
    """The reply a simple charger gives to a command, or None for one it does not implement
    (the load generator then answers with CALLERROR NotImplemented, as a real charger would)."""
    if action == COMMAND_ACTION:
        return CONFIGURATION_REPLY
    if action in {"ChangeAvailability", "ClearCache", "Reset"}:
        return {"status": "Accepted"}
    return None
