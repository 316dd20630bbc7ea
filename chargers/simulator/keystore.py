"""The charger's settings as the CSMS sees them.

OCPP 1.6 exposes flat configuration keys (GetConfiguration / ChangeConfiguration); OCPP 2.0.1
exposes a device model of components and variables (GetVariables / SetVariables /
GetBaseReport). Both stores validate values the way a charger would, keep secrets write-only,
and tell the charger about accepted changes through `on_change`, so a new HeartbeatInterval or
sample interval takes effect at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from chargers import credentials
from chargers.simulator.meter import MEASURANDS

OnChange = Callable[[str, str], None]


def _valid(kind: str, value: str) -> bool:
    if kind in ("int", "integer"):
        try:
            return int(value) >= 0
        except ValueError:
            return False
    if kind == "decimal":
        try:
            float(value)
        except ValueError:
            return False
        return True
    if kind in ("bool", "boolean"):
        return value.lower() in ("true", "false")
    if kind in ("measurands", "MemberList"):
        items = [item.strip() for item in value.split(",") if item.strip()]
        return all(item in MEASURANDS for item in items)
    if kind == "secret":
        # 1.6's AuthorizationKey: the hexadecimal form of a 16-20 byte password (whitepaper).
        return credentials.password_of_hex_key(value) is not None
    if kind == "passwordString":
        # OCPP security profiles 1 and 2: 16 to 40 printable ASCII characters.
        return 16 <= len(value) <= 40 and value.isascii() and value.isprintable()
    return len(value) <= 500


def format_seconds(seconds: float | None) -> str:
    """Intervals are integers in OCPP; tests use fractions, which are shown as they are."""
    if seconds is None:
        return "0"
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


# --- OCPP 1.6 ----------------------------------------------------------------------------


@dataclass
class ConfigKey:
    name: str
    value: str
    readonly: bool = False
    kind: str = "string"  # int, bool, measurands, secret, string
    reboot_required: bool = False  # a change takes effect after a restart

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


class ConfigurationStore:
    def __init__(self, keys: Iterable[ConfigKey], on_change: OnChange | None = None):
        self._keys = {key.name.lower(): key for key in keys}
        self.on_change = on_change

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._keys

    def value(self, name: str) -> str:
        return self._keys[name.lower()].value

    def put(self, name: str, value: str) -> None:
        """The charger itself updates a value (also read-only ones), without validation."""
        self._keys[name.lower()].value = value

    def get(self, names: list[str] | None) -> tuple[list[dict], list[str]]:
        """(configurationKey entries, unknownKey names) for GetConfiguration."""
        wanted = list(self._keys.values()) if not names else []
        unknown: list[str] = []
        for name in names or ():
            key = self._keys.get(name.lower())
            if key is None:
                unknown.append(name)
            else:
                wanted.append(key)
        entries = []
        for key in wanted:
            entry = {"key": key.name, "readonly": key.readonly}
            # AuthorizationKey and other secrets are never disclosed, not even to the CSMS.
            if not key.secret:
                entry["value"] = key.value
            entries.append(entry)
        return entries, unknown

    def change(self, name: str, value: str) -> str:
        """A ChangeConfiguration status: Accepted, Rejected or NotSupported."""
        key = self._keys.get(name.lower())
        if key is None:
            return "NotSupported"
        if key.readonly or not _valid(key.kind, value):
            return "Rejected"
        if key.kind == "bool":
            value = value.lower()
        key.value = value
        if self.on_change:
            self.on_change(key.name, value)
        return "RebootRequired" if key.reboot_required else "Accepted"


# --- OCPP 2.0.1 --------------------------------------------------------------------------


@dataclass
class Variable:
    component: str
    name: str
    value: str
    mutability: str = "ReadWrite"  # ReadOnly, ReadWrite, WriteOnly
    data_type: str = "string"  # integer, decimal, boolean, string, MemberList, passwordString
    evse: int | None = None
    instance: str | None = None
    unit: str | None = None
    reboot_required: bool = False  # a change takes effect after a restart

    @property
    def key(self) -> tuple:
        return (self.component.lower(), self.evse, self.name.lower(), self.instance)

    def component_ref(self) -> dict:
        ref: dict = {"name": self.component}
        if self.evse is not None:
            ref["evse"] = {"id": self.evse}
        return ref

    def variable_ref(self) -> dict:
        ref: dict = {"name": self.name}
        if self.instance is not None:
            ref["instance"] = self.instance
        return ref


def _key_of(component: dict, variable: dict) -> tuple:
    evse = (component.get("evse") or {}).get("id")
    return (component["name"].lower(), evse, variable["name"].lower(), variable.get("instance"))


class DeviceModel:
    def __init__(self, variables: Iterable[Variable], on_change: OnChange | None = None):
        self._vars = {v.key: v for v in variables}
        self._components = {(v.component.lower(), v.evse) for v in self._vars.values()}
        self.on_change = on_change
        # Told of every new value, however it came (SetVariables or the station itself):
        # what variable monitors watch.
        self.on_value: Callable[[Variable, str, str], None] | None = None

    def _assign(self, variable: Variable, value: str) -> None:
        old, variable.value = variable.value, value
        if self.on_value is not None and old != value:
            self.on_value(variable, old, value)

    def find(self, component: str, name: str, *, evse=None, instance=None) -> Variable:
        return self._vars[(component.lower(), evse, name.lower(), instance)]

    def value(self, component: str, name: str, **where) -> str:
        return self.find(component, name, **where).value

    def put(self, component: str, name: str, value: str, **where) -> None:
        self._assign(self.find(component, name, **where), value)

    def problem(self, component: dict, variable: dict) -> str | None:
        """UnknownComponent, UnknownVariable, or None for a variable the station has."""
        return self._lookup(component, variable)[0]

    def _lookup(self, component: dict, variable: dict) -> tuple[str | None, Variable | None]:
        evse = (component.get("evse") or {}).get("id")
        if (component["name"].lower(), evse) not in self._components:
            return "UnknownComponent", None
        found = self._vars.get(_key_of(component, variable))
        if found is None:
            return "UnknownVariable", None
        return None, found

    def _target(self, request: dict) -> tuple[dict, Variable | None]:
        """The start of the result for a Get/SetVariableData and the variable it names; with
        no variable (None), the result is whole: the variable or its attribute is unknown."""
        component, variable = request["component"], request["variable"]
        attribute = request.get("attribute_type") or "Actual"
        result = {"component": component, "variable": variable}
        if request.get("attribute_type"):
            result["attribute_type"] = attribute
        problem, found = self._lookup(component, variable)
        if found is None:
            return {**result, "attribute_status": problem}, None
        if attribute != "Actual":
            return {**result, "attribute_status": "NotSupportedAttributeType"}, None
        return result, found

    def get(self, request: dict) -> dict:
        """One GetVariableResult for one GetVariableData (snake_case keys)."""
        result, found = self._target(request)
        if found is None:
            return result
        if found.mutability == "WriteOnly":
            # Passwords are never read back.
            return {**result, "attribute_status": "Rejected"}
        return {**result, "attribute_status": "Accepted", "attribute_value": found.value}

    def set(self, request: dict) -> dict:
        """One SetVariableResult for one SetVariableData (snake_case keys)."""
        value = str(request["attribute_value"])
        result, found = self._target(request)
        if found is None:
            return result
        if found.mutability == "ReadOnly" or not _valid(found.data_type, value):
            return {**result, "attribute_status": "Rejected"}
        if found.data_type == "boolean":
            value = value.lower()
        self._assign(found, value)
        if self.on_change:
            self.on_change(f"{found.component}.{found.name}", value)
        status = "RebootRequired" if found.reboot_required else "Accepted"
        return {**result, "attribute_status": status}

    def report(self, base: str) -> list[dict]:
        """ReportData entries for GetBaseReport's ConfigurationInventory, Full or Summary."""
        entries = []
        for var in self._vars.values():
            if base == "ConfigurationInventory" and var.mutability == "ReadOnly":
                continue
            if base == "SummaryInventory" and var.name != "AvailabilityState":
                continue
            attribute: dict = {"type": "Actual", "mutability": var.mutability}
            if var.mutability != "WriteOnly":
                attribute["value"] = var.value
            # The 2.0.1 JSON schema lacks passwordString, though the specification lists it.
            data_type = "string" if var.data_type == "passwordString" else var.data_type
            characteristics: dict = {"data_type": data_type, "supports_monitoring": False}
            if var.unit:
                characteristics["unit"] = var.unit
            if var.data_type == "MemberList":
                characteristics["values_list"] = ",".join(MEASURANDS)
            if var.data_type == "OptionList":
                characteristics["values_list"] = "Available,Occupied,Reserved,Unavailable,Faulted"
            entries.append(
                {
                    "component": var.component_ref(),
                    "variable": var.variable_ref(),
                    "variable_attribute": [attribute],
                    "variable_characteristics": characteristics,
                }
            )
        return entries
