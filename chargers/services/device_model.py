"""Writes of a charger's device model: the attributes of its variables, as its reports and the
replies to commands establish them (read from the wire by `chargers.ocpp.variables`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction

from chargers.events import DeviceModelReported
from chargers.models import DeviceModelVariable
from cpms.events import publish
from cpms.tenancy import scoping

VALUE_LENGTH = DeviceModelVariable._meta.get_field("value").max_length


@dataclass(frozen=True, slots=True)
class AttributeId:
    """One attribute of a device-model variable: what DeviceModelVariable is unique by,
    besides its charger (the component and variable with their instances, the component's
    EVSE and connector, 0 for none, and the attribute type)."""

    component: str
    variable: str
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    attribute_type: str = "Actual"

    @classmethod
    def of(cls, row: DeviceModelVariable) -> AttributeId:
        return cls(**{name: getattr(row, name) for name in IDENTITY})

    def fields(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """OCPPCommCtrlr.HeartbeatInterval, EVSE (EVSE 1/2).Power (MaxSet): as operators
        read it."""
        label = self.component
        if self.evse_id:
            connector = f"/{self.connector_id}" if self.connector_id else ""
            label += f" (EVSE {self.evse_id}{connector})"
        label += f".{self.variable}"
        if self.attribute_type != "Actual":
            label += f" ({self.attribute_type})"
        return label


IDENTITY = tuple(AttributeId.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """The value an attribute holds, as a read or an accepted change established it."""

    attribute: AttributeId
    value: str


@dataclass(frozen=True, slots=True)
class AttributeReport:
    """Everything a charger's report says of one attribute."""

    attribute: AttributeId
    value: str = ""
    mutability: str = ""
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def device_model_store(*, charger_id: int, reports: list[AttributeReport]) -> int:
    """Upsert the attributes a charger reported; returns how many."""
    for report in reports:
        _store(
            charger_id,
            report.attribute,
            value=report.value,
            mutability=report.mutability,
            persistent=report.persistent,
            constant=report.constant,
            characteristics=report.characteristics,
        )
    tenant = scoping.current_tenant()
    publish(
        DeviceModelReported(
            tenant_id=tenant.pk if tenant else None, charger_id=charger_id, attributes=len(reports)
        )
    )
    return len(reports)


@transaction.atomic
def device_model_values_store(*, charger_id: int, values: list[AttributeValue]) -> None:
    """Keep the values a charger holds now (read, or changed and accepted)."""
    for held in values:
        _store(charger_id, held.attribute, value=held.value)


def _store(charger_id: int, attribute: AttributeId, *, value: str, **reported: object) -> None:
    DeviceModelVariable.objects.update_or_create(
        charger_id=charger_id,
        **attribute.fields(),
        defaults={"value": value[:VALUE_LENGTH], **reported},
    )
