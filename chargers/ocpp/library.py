"""What the central system still takes from the `ocpp` library: the action names of each
version and the schema files that come with them. Nothing else on the server side imports it.

The library's charge-point side (its `ChargePoint`, routing and dataclasses) stays with the
simulator and the tests' chargers. Its central-system machinery does not fit ours: it drops
malformed frames unanswered, swaps NotImplemented and NotSupported, converts every key to
snake_case and back (about 320 us a message), and keeps its pending replies in private
attributes. `tests/chargers/ocpp/test_library.py` fails if an upgrade moves what we read here.
"""

from __future__ import annotations

import functools
import importlib.resources

from ocpp.v16.enums import Action as Action16
from ocpp.v21.enums import Action as Action21
from ocpp.v201.enums import Action as Action201

VERSIONS = ("1.6", "2.0.1", "2.1")

# Every action name of each version, whichever side sends it.
ACTIONS: dict[str, frozenset[str]] = {
    "1.6": frozenset(action.value for action in Action16),
    "2.0.1": frozenset(action.value for action in Action201),
    "2.1": frozenset(action.value for action in Action21),
}


def schema_name(version: str, action: str, *, response: bool) -> str:
    """The file name of an action's request or response schema: 1.6 names a request after
    the action alone, 2.x adds "Request"."""
    if response:
        return f"{action}Response.json"
    return f"{action}.json" if version == "1.6" else f"{action}Request.json"


@functools.cache
def schema_text(version: str, action: str, *, response: bool) -> str:
    """The JSON text of an action's request or response schema; OSError when there is none.

    The files are read as package data (some carry a byte-order mark), not by path.
    """
    if action not in ACTIONS[version]:
        raise FileNotFoundError(f"{action!r} is not an OCPP {version} action")
    folder = "v" + version.replace(".", "")
    resource = (
        importlib.resources.files("ocpp")
        / folder
        / "schemas"
        / schema_name(version, action, response=response)
    )
    return resource.read_text(encoding="utf-8-sig")
