"""2.0.1 device-model attributes on the wire: how a payload names one (component and variable
with their instances, the component's EVSE and connector, the attribute type), read into the
domain's `AttributeId` and written back. The one place that knows the wire form."""

from __future__ import annotations

from typing import Any

from chargers.ocpp import JsonDict
from chargers.services.device_model import AttributeId, AttributeReport, AttributeValue

ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")


def attribute_from_wire(
    component: JsonDict, variable: JsonDict, attribute_type: str | None
) -> AttributeId:
    """The attribute a payload's component, variable and attribute type name (Actual when
    absent)."""
    evse = component.get("evse") or {}
    return AttributeId(
        component=component.get("name", ""),
        component_instance=component.get("instance", ""),
        evse_id=evse.get("id", 0),
        connector_id=evse.get("connectorId", 0),
        variable=variable.get("name", ""),
        variable_instance=variable.get("instance", ""),
        attribute_type=attribute_type or "Actual",
    )


def attribute_to_wire(attribute: AttributeId) -> JsonDict:
    """The component, variable and (unless Actual) attributeType naming `attribute`, as
    Get/SetVariables data and monitoring requests take them."""
    component: JsonDict = {"name": attribute.component}
    if attribute.component_instance:
        component["instance"] = attribute.component_instance
    if attribute.evse_id:
        component["evse"] = {"id": attribute.evse_id}
        if attribute.connector_id:
            component["evse"]["connectorId"] = attribute.connector_id
    variable: JsonDict = {"name": attribute.variable}
    if attribute.variable_instance:
        variable["instance"] = attribute.variable_instance
    data: JsonDict = {"component": component, "variable": variable}
    if attribute.attribute_type != "Actual":
        data["attributeType"] = attribute.attribute_type
    return data


def variable_key(
    component: JsonDict, variable: JsonDict, attribute_type: str | None
) -> dict[str, Any]:
    """The attribute a payload names, as DeviceModelVariable's fields in their model order."""
    return attribute_from_wire(component, variable, attribute_type).fields()


def reported_attributes(report_data: list[JsonDict]) -> list[AttributeReport]:
    """Every attribute a NotifyReport's reportData describes."""
    reports = []
    for item in report_data:
        characteristics = item.get("variableCharacteristics") or {}
        for attribute in item.get("variableAttribute") or []:
            reports.append(
                AttributeReport(
                    attribute=attribute_from_wire(
                        item["component"], item["variable"], attribute.get("type")
                    ),
                    value=str(attribute.get("value", "")),
                    mutability=attribute.get("mutability", ""),
                    persistent=attribute.get("persistent"),
                    constant=attribute.get("constant"),
                    # Kept as sent: shown to operators, never read by our code.
                    characteristics=characteristics,
                )
            )
    return reports


def value_read(result: JsonDict) -> AttributeValue | None:
    """The value one getVariableResult returns, when the charger gave one (Accepted)."""
    if result.get("attributeStatus") != "Accepted" or "attributeValue" not in result:
        return None
    attribute = attribute_from_wire(
        result["component"], result["variable"], result.get("attributeType")
    )
    return AttributeValue(attribute=attribute, value=str(result["attributeValue"]))
