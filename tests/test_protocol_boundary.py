"""The protocol layer's boundary: OCPP lives in chargers/ocpp/ and nowhere else.

Outside it, product code names no OCPP action (a string equal to an action name of 1.6, 2.0.1
or 2.1) and reads or writes no camelCase key (a camelCase string used as a dict key, a
subscript or a .get() argument); the services and pages speak the domain, and chargers/ocpp/
translates. Only chargers/ocpp/library.py touches the `ocpp` library, and nothing touches its
private machinery. The charge-point side (chargers/simulator/) speaks OCPP by nature, and
migrations are history; both are left out.
"""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from chargers.ocpp.library import ACTIONS

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("chargers", "cpms", "billing")
PROTOCOL_LAYER = "chargers/ocpp/"
OUTSIDE = ("chargers/simulator/",)
LIBRARY_MODULE = "chargers/ocpp/library.py"
CAMEL_CASE = re.compile(r"^[a-z]+[A-Z][A-Za-z0-9]*$")
EVERY_ACTION = frozenset().union(*ACTIONS.values())
# What the library keeps to itself; the server once drove it through these.
LIBRARY_PRIVATES = frozenset(
    {"_response_queue", "_call_lock", "_unique_id_generator", "_get_specific_response", "route_map"}
)

# Places outside the protocol layer that still speak OCPP, each with what replaces it: the list
# only shrinks (a test fails on an entry that no longer occurs). Empty: keep it so.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

# Strings that look like OCPP but are not protocol knowledge.
NOT_VIOLATIONS = {
    ("chargers/metering.py", "kWh"): "a unit symbol: energy to Wh is metering arithmetic",
    ("chargers/metering.py", "kW"): "a unit symbol: power to W is metering arithmetic",
    ("cpms/api/base.py", "additionalProperties"): "a JSON Schema keyword of the OpenAPI schema",
    ("chargers/api/commands.py", "DataTransfer"): (
        "documents the API's raw OCPP call, whose fields are OCPP by definition"
    ),
    ("chargers/api/commands.py", "vendorId"): "the same documented raw OCPP call",
    ("chargers/api/commands.py", "messageId"): "the same documented raw OCPP call",
    ("cpms/api/examples.py", "StatusNotification"): (
        "documents a message-log row, which holds the frame as sent"
    ),
    ("cpms/api/examples.py", "Reset"): "documents a command row, which holds the action sent",
    ("cpms/api/examples.py", "ClearCache"): "documents a command row, which holds the action sent",
    ("cpms/api/examples.py", "dataType"): (
        "documents a device-model row, whose characteristics are kept as the charger sent them"
    ),
}


def product_modules() -> list[Path]:
    modules = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative.startswith(OUTSIDE):
                continue
            modules.append(path)
    return modules


def keys_used(node: ast.AST) -> list[ast.expr]:
    """The expressions `node` uses as a key: of a dict display, a subscript, a .get()."""
    if isinstance(node, ast.Dict):
        return [key for key in node.keys if key is not None]
    if isinstance(node, ast.Subscript):
        return [node.slice]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
    ):
        return [node.args[0]]
    return []


def text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


@cache
def findings() -> dict[str, set[tuple[str, str]]]:
    """What each rule finds, as (module, string) pairs."""
    found: dict[str, set[tuple[str, str]]] = {"protocol": set(), "library": set()}
    for path in product_modules():
        module = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=module)
        in_protocol_layer = module.startswith(PROTOCOL_LAYER)
        for node in ast.walk(tree):
            if not in_protocol_layer:
                if text(node) in EVERY_ACTION:
                    found["protocol"].add((module, text(node)))
                for key in keys_used(node):
                    if text(key) and CAMEL_CASE.match(text(key)):
                        found["protocol"].add((module, text(key)))
            if module == LIBRARY_MODULE:
                continue
            if isinstance(node, ast.Attribute) and node.attr in LIBRARY_PRIVATES:
                found["library"].add((module, node.attr))
            if isinstance(node, ast.Name) and node.id in LIBRARY_PRIVATES:
                found["library"].add((module, node.id))
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "__file__"
                and isinstance(node.value, ast.Name)
                and node.value.id == "ocpp"
            ):
                found["library"].add((module, "ocpp.__file__"))
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names]
                imported = [node.module] if isinstance(node, ast.ImportFrom) else names
                if any(name == "ocpp" or str(name).startswith("ocpp.") for name in imported):
                    found["library"].add((module, f"import {', '.join(map(str, imported))}"))
    return found


def test_the_rules_see_what_they_look_for():
    # Guards the checks themselves: an empty walk or a wrong pattern would pass vacuously.
    assert len(product_modules()) > 50 and {"BootNotification", "TransactionEvent"} <= EVERY_ACTION
    tree = ast.parse('x = {"idTag": 1}; y[ "vendorId"]; z.get("seqNo"); w = "MeterValues"')
    keys = {text(key) for node in ast.walk(tree) for key in keys_used(node)}
    assert keys == {"idTag", "vendorId", "seqNo"}
    assert not CAMEL_CASE.match("energy_wh") and not CAMEL_CASE.match("Accepted")


def test_no_module_outside_the_protocol_layer_speaks_ocpp():
    unexpected = findings()["protocol"] - KNOWN_VIOLATIONS.keys() - NOT_VIOLATIONS.keys()
    assert sorted(unexpected) == [], (
        "OCPP action names or camelCase keys outside chargers/ocpp/: translate them there "
        "(builders for requests, readers for replies, handlers for messages)"
    )


def test_only_the_library_module_touches_the_ocpp_library():
    assert sorted(findings()["library"]) == []


@pytest.mark.parametrize(
    "listed", [*KNOWN_VIOLATIONS, *NOT_VIOLATIONS], ids=lambda entry: "-".join(entry)
)
def test_every_listed_exception_still_occurs(listed):
    # When a module stops naming it, the entry goes: the lists only ever shrink.
    assert listed in findings()["protocol"]
