"""OCPP 1.6J and 2.0.1 payloads the load generator sends, built as plain dicts (camelCase, as on
the wire).

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


def sampled_values(energy_wh: int) -> list[dict]:
    """Nine sampled values: energy, power, current and voltage per phase, and state of charge,
    the mix a real AC charger reports (1.6 sends the value as text, 2.0.1 as a number)."""
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
    return sampled


SAMPLES_PER_METER_VALUES = 9


def meter_values(*, connector_id: int, transaction_id: int | None, energy_wh: int) -> dict:
    """One MeterValues with nine sampled values (`sampled_values`, SAMPLES_PER_METER_VALUES)."""
    payload: dict = {
        "connectorId": connector_id,
        "meterValue": [{"timestamp": now(), "sampledValue": sampled_values(energy_wh)}],
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


def status_notification(*, connector_id: int, status: str) -> dict:
    return {
        "connectorId": connector_id,
        "errorCode": "NoError",
        "status": status,
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


# --- OCPP 2.0.1 ---------------------------------------------------------------------------------

BOOT_201 = {
    "chargingStation": {
        "vendorName": "Bench",
        "model": "Load-1",
        "serialNumber": "BENCH-SERIAL",
        "firmwareVersion": "1.0.0",
    },
    "reason": "PowerUp",
}
# A TransactionEvent's samples: the register at its start and end, the whole mix in between.
SAMPLES_PER_EVENT = {"Started": 1, "Updated": 9, "Ended": 1}
BOUNDARY_CONTEXT = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}


def authorize_201(id_tag: str) -> dict:
    return {"idToken": {"idToken": id_tag, "type": "ISO14443"}}


def transaction_event(
    *, event_type: str, seq_no: int, transaction_id: str, energy_wh: int, id_tag: str = ""
) -> dict:
    """One TransactionEvent on EVSE 1 with its samples (`SAMPLES_PER_EVENT`): Started names
    the driver's token, Updated reports periodically, Ended says why it stopped."""
    if event_type == "Updated":
        sampled = [_sampled_201(value, "Sample.Periodic") for value in sampled_values(energy_wh)]
    else:
        sampled = [_sampled_201(sampled_values(energy_wh)[0], BOUNDARY_CONTEXT[event_type])]
    info: dict = {"transactionId": transaction_id, "chargingState": "Charging"}
    trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic"}.get(
        event_type, "EVCommunicationLost"
    )
    if event_type == "Ended":
        info = {"transactionId": transaction_id, "stoppedReason": "EVDisconnected"}
    payload: dict = {
        "eventType": event_type,
        "timestamp": now(),
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{"timestamp": now(), "sampledValue": sampled}],
    }
    if id_tag:
        payload["idToken"] = {"idToken": id_tag, "type": "ISO14443"}
    return payload


def _sampled_201(value: dict, context: str) -> dict:
    """A 1.6 sampled value as 2.0.1 spells it: a number, and the unit as unitOfMeasure."""
    sampled = {k: v for k, v in value.items() if k != "unit"}
    return {
        **sampled,
        "value": float(value["value"]),
        "context": context,
        "unitOfMeasure": {"unit": value["unit"]},
    }


def answer_to(action: str, payload: dict) -> dict | None:
    """The reply a simple charger gives to a command, or None for one it does not implement
    (the load generator then answers with CALLERROR NotImplemented, as a real charger would)."""
    if action == COMMAND_ACTION:
        return CONFIGURATION_REPLY
    if action in {"ChangeAvailability", "ClearCache", "Reset"}:
        return {"status": "Accepted"}
    return None
