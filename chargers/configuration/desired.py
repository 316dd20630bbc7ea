"""Settings as templates name them, pure: their names, the one-line form the dashboard edits,
how values compare, and which template's value is a charger's desired one.

A 1.6 setting is its configuration key. A 2.0.1 setting is one attribute of a device-model
variable, written `Component[/instance][@evse[/connector]].Variable[/instance][#Type]`
(`OCPPCommCtrlr.HeartbeatInterval`, `EVSE@1.Power#MaxSet`); the attribute type is Actual
unless named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from chargers.ocpp.variables import ATTRIBUTE_TYPES
from chargers.services.device_model import AttributeId

V16 = "1.6"
ENTRY_FIELDS = (
    "key",
    "component",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable",
    "variable_instance",
    "attribute_type",
)


class EntryLike(Protocol):
    key: str
    component: str
    component_instance: str
    evse_id: int
    connector_id: int
    variable: str
    variable_instance: str
    attribute_type: str


def setting_name(entry: EntryLike) -> str:
    if entry.key:
        return entry.key
    name = entry.component
    if entry.component_instance:
        name += f"/{entry.component_instance}"
    if entry.evse_id:
        name += f"@{entry.evse_id}"
        if entry.connector_id:
            name += f"/{entry.connector_id}"
    name += f".{entry.variable}"
    if entry.variable_instance:
        name += f"/{entry.variable_instance}"
    if entry.attribute_type and entry.attribute_type != "Actual":
        name += f"#{entry.attribute_type}"
    return name


def attribute_of(entry: EntryLike) -> AttributeId:
    """The 2.0.1 device-model attribute an entry names."""
    return AttributeId(
        component=entry.component,
        component_instance=entry.component_instance,
        evse_id=entry.evse_id,
        connector_id=entry.connector_id,
        variable=entry.variable,
        variable_instance=entry.variable_instance,
        attribute_type=entry.attribute_type or "Actual",
    )


def attribute_setting(attribute: AttributeId) -> str:
    """The setting name of a device-model attribute (as a charger reported it)."""
    return setting_name(_Entry(key="", **attribute.fields()))


@dataclass
class _Entry:
    key: str
    component: str
    variable: str
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    attribute_type: str = "Actual"


_NAME = r"[^\s/@.#=]+"
_V201 = re.compile(
    rf"^(?P<component>{_NAME})(?:/(?P<component_instance>{_NAME}))?"
    r"(?:@(?P<evse_id>\d+)(?:/(?P<connector_id>\d+))?)?"
    rf"\.(?P<variable>{_NAME})(?:/(?P<variable_instance>{_NAME}))?"
    rf"(?:#(?P<attribute_type>{_NAME}))?$"
)


def entry_fields(*, protocol: str, name: str) -> dict[str, Any]:
    """The entry fields a setting name means; ValueError saying what is wrong."""
    name = name.strip()
    if not name:
        raise ValueError("name the setting.")
    if protocol == V16:
        if len(name) > 50 or any(c.isspace() for c in name):
            raise ValueError(f"{name!r}: a 1.6 key has no spaces and at most 50 characters.")
        return {"key": name}
    found = _V201.match(name)
    if found is None:
        raise ValueError(
            f"{name!r}: name 2.0.1 settings as Component.Variable "
            "(Component[/instance][@evse[/connector]].Variable[/instance][#Type])."
        )
    fields = {k: v or "" for k, v in found.groupdict().items()}
    fields["evse_id"] = int(fields["evse_id"] or 0)
    fields["connector_id"] = int(fields["connector_id"] or 0)
    fields["attribute_type"] = fields["attribute_type"] or "Actual"
    return fields


def parse_lines(*, protocol: str, text: str) -> list[dict[str, Any]]:
    """The entries of the dashboard's text form, one `setting = value` a line (blank lines and
    lines starting with # are skipped); ValueError naming the line."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise ValueError(f"Line {number}: write setting = value.")
        try:
            fields = entry_fields(protocol=protocol, name=name)
        except ValueError as error:
            raise ValueError(f"Line {number}: {error}") from None
        entries.append({**fields, "value": value.strip()})
    return entries


def format_lines(entries: Iterable[Any]) -> str:
    return "\n".join(f"{entry.setting} = {entry.value}" for entry in entries)


def entry_problem(entry: dict[str, Any], *, protocol: str) -> str | None:
    """What is wrong with one entry's fields, or None."""
    if protocol == V16:
        if not (entry.get("key") or "").strip():
            return "key: a 1.6 entry names its configuration key."
        if any(entry.get(f) for f in ("component", "variable")):
            return "a 1.6 entry has a key, not a component and variable."
        return None
    if entry.get("key"):
        return "key: 2.0.1 entries name a component and a variable instead."
    if not (entry.get("component") or "").strip():
        return "component: name the component."
    if not (entry.get("variable") or "").strip():
        return "variable: name the variable."
    if (entry.get("attribute_type") or "Actual") not in ATTRIBUTE_TYPES:
        return f"attribute_type: choose one of {', '.join(ATTRIBUTE_TYPES)}."
    if entry.get("connector_id") and not entry.get("evse_id"):
        return "connector_id: a connector is numbered within an EVSE; give the EVSE."
    return None


def same_value(desired: str, actual: str | None) -> bool:
    """Whether a charger's value is the desired one. Booleans compare without case (chargers
    answer True, true or TRUE); anything else exactly, but for surrounding spaces."""
    if actual is None:
        return False
    desired, actual = desired.strip(), actual.strip()
    if desired.lower() in ("true", "false"):
        return desired.lower() == actual.lower()
    return desired == actual


@dataclass(frozen=True)
class Desired:
    setting: str
    value: str
    template_id: int
    template_name: str
    entry: Any


def effective(templates: Iterable[Any]) -> dict[str, Desired]:
    """Per setting, the value of the most specific template that names it (`rank`: site over
    model over vendor); between equally specific ones the older template wins (so a new
    template never silently overrides a setting an existing one of its rank governs).
    `templates` come with their entries (`template.entries.all()`)."""
    ordered = sorted(templates, key=lambda t: (-t.rank, t.created_at, t.pk))
    desired: dict[str, Desired] = {}
    for template in ordered:
        for entry in template.entries.all():
            desired.setdefault(
                entry.setting,
                Desired(entry.setting, entry.value, template.pk, template.name, entry),
            )
    return desired
