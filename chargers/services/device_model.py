"""Writes of a 2.0.1 charger's device model, and of facts a command's reply establishes."""

from __future__ import annotations

from django.db import transaction

from chargers.models import (
    DeviceModelVariable,
)
from chargers.services.chargers import charger_password_accepted


@transaction.atomic
def device_model_store(*, charger_id: int, report_data: list[dict]) -> int:
    """Upsert the variables of a NotifyReport (camelCase, as sent); returns how many."""
    count = 0
    for item in report_data:
        characteristics = item.get("variableCharacteristics") or {}
        for attribute in item.get("variableAttribute") or []:
            _store_variable(
                charger_id,
                item["component"],
                item["variable"],
                attribute.get("type", "Actual"),
                {
                    "value": str(attribute.get("value", ""))[:2500],
                    "mutability": attribute.get("mutability", ""),
                    "persistent": attribute.get("persistent"),
                    "constant": attribute.get("constant"),
                    "characteristics": characteristics,
                },
            )
            count += 1
    return count


@transaction.atomic
def device_model_values_store(*, charger_id: int, results: list[dict]) -> None:
    """Keep the values a GetVariables reply returned as Accepted (camelCase, as sent)."""
    for result in results:
        if result.get("attributeStatus") != "Accepted" or "attributeValue" not in result:
            continue
        _store_variable(
            charger_id,
            result["component"],
            result["variable"],
            result.get("attributeType", "Actual"),
            {"value": str(result["attributeValue"])[:2500]},
        )


def variable_key(component: dict, variable: dict, attribute_type: str | None) -> dict:
    """How 2.0.1 identifies one device-model attribute (component and variable with their
    instances, the component's EVSE and connector, the attribute type, Actual when absent),
    from a payload's camelCase parts, as DeviceModelVariable's fields in their model order."""
    evse = component.get("evse") or {}
    return {
        "component": component.get("name", ""),
        "component_instance": component.get("instance", ""),
        "evse_id": evse.get("id", 0),
        "connector_id": evse.get("connectorId", 0),
        "variable": variable.get("name", ""),
        "variable_instance": variable.get("instance", ""),
        "attribute_type": attribute_type or "Actual",
    }


def _store_variable(
    charger_id: int, component: dict, variable: dict, attribute_type: str, values: dict
) -> None:
    """Upsert one attribute, identified as 2.0.1 identifies it (`variable_key`)."""
    DeviceModelVariable.objects.update_or_create(
        charger_id=charger_id,
        **variable_key(component, variable, attribute_type),
        defaults=values,
    )


@transaction.atomic
def learn_from_reply(*, charger_id: int, action: str, payload: dict, reply: dict) -> None:
    """Facts a command's reply establishes, kept where the rest of the charger's state is.

    A charger that accepts a new basic-auth password (1.6 AuthorizationKey, 2.0.1
    SecurityCtrlr.BasicAuthPassword) uses it from its next connection on, so the stored hash
    must follow at once or the charger would be locked out.
    """
    if action == "ChangeConfiguration" and payload.get("key") == "AuthorizationKey":
        if reply.get("status") == "Accepted":
            charger_password_accepted(charger_id=charger_id, password=payload["value"])
    elif action == "SetVariables":
        results = reply.get("setVariableResult") or []
        for data, result in zip(payload.get("setVariableData") or [], results, strict=False):
            if result.get("attributeStatus") != "Accepted":
                continue
            if data.get("variable", {}).get("name") == "BasicAuthPassword":
                charger_password_accepted(charger_id=charger_id, password=data["attributeValue"])
            else:
                # The device model shows what the charger now holds, as a GetVariables would.
                _store_variable(
                    charger_id,
                    data["component"],
                    data["variable"],
                    data.get("attributeType", "Actual"),
                    {"value": str(data["attributeValue"])[:2500]},
                )
    elif action == "GetVariables":
        device_model_values_store(
            charger_id=charger_id, results=reply.get("getVariableResult") or []
        )
