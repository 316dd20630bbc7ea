"""CALLERROR codes as each OCPP version spells them, and the frame checks the library skips.

The `ocpp` library drops malformed frames unanswered, swaps NotImplemented and NotSupported,
and uses 2.0.1 spellings on 1.6 sockets; this module is where we answer as the standards say.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import fastjsonschema
import ocpp
from fastjsonschema import JsonSchemaValueException
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_UNIQUE_ID = 36

# Our names for what went wrong -> the code each version uses for it.
CODES = {
    "1.6": {
        "not_json": "FormationViolation",
        "bad_frame": "FormationViolation",
        "bad_message_type": "FormationViolation",
        "format": "FormationViolation",
        "occurrence": "OccurenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "property": "PropertyConstraintViolation",
        "unknown_action": "NotImplemented",
        "unsupported_action": "NotSupported",
        "security": "SecurityError",
        "internal": "InternalError",
    },
    "2.0.1": {
        "not_json": "RpcFrameworkError",
        "bad_frame": "RpcFrameworkError",
        "bad_message_type": "MessageTypeNotSupported",
        "format": "FormatViolation",
        "occurrence": "OccurrenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "property": "PropertyConstraintViolation",
        "unknown_action": "NotImplemented",
        "unsupported_action": "NotSupported",
        "security": "SecurityError",
        "internal": "InternalError",
    },
}
CODES["2.1"] = CODES["2.0.1"]

SCHEMA_KEYWORD_PROBLEM = {
    "type": "type",
    "required": "occurrence",
    "minItems": "occurrence",
    "maxItems": "occurrence",
    "additionalProperties": "format",
}


@dataclass
class FrameProblem(Exception):
    """A frame we answer with a CALLERROR before any handler runs."""

    problem: str
    description: str
    unique_id: str = "-1"

    def call_error(self, version: str) -> str:
        code = CODES[version][self.problem]
        return json.dumps([CALLERROR, self.unique_id, code, self.description[:255], {}])


@dataclass
class Frame:
    message_type: int
    unique_id: str
    action: str | None
    payload: object
    error: list | None = None  # [code, description, details] of a CALLERROR


def storable(value) -> bool:
    """Whether every string in `value` is text PostgreSQL can keep."""
    text = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse(raw: str) -> Frame:
    """Parse an OCPP-J frame or raise FrameProblem naming what is wrong with it."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        raise FrameProblem("not_json", "The message is not valid JSON.") from None
    if not isinstance(message, list) or len(message) < 3:
        raise FrameProblem("bad_frame", "An OCPP-J message is a JSON array of 3 to 5 elements.")
    message_type, unique_id = message[0], message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        raise FrameProblem("bad_frame", "The message id must be a string of 1 to 36 characters.")
    # JSON escapes can spell text no database stores (NUL, a lone UTF-16 surrogate); refuse it
    # here rather than fail half-way through storing it. Only escaped frames can carry it.
    if "\\u" in raw and not storable(message):
        raise FrameProblem(
            "format",
            "The message contains a NUL character or an unpaired surrogate.",
            unique_id if storable(unique_id) else "-1",
        )
    if message_type == CALL:
        if len(message) != 4 or not isinstance(message[2], str):
            raise FrameProblem("bad_frame", "A CALL is [2, id, action, payload].", unique_id)
        if not isinstance(message[3], dict):
            raise FrameProblem("format", "The payload of a CALL is a JSON object.", unique_id)
        return Frame(CALL, unique_id, message[2], message[3])
    readable_id = unique_id
    if message_type == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameProblem("bad_frame", "A CALLRESULT is [3, id, payload].", readable_id)
        return Frame(CALLRESULT, unique_id, None, message[2])
    if message_type == CALLERROR:
        if len(message) not in (4, 5) or not all(isinstance(x, str) for x in message[2:4]):
            raise FrameProblem(
                "bad_frame", "A CALLERROR is [4, id, code, description, details].", readable_id
            )
        details = message[4] if len(message) == 5 else {}
        return Frame(CALLERROR, unique_id, None, {}, [message[2], message[3], details])
    raise FrameProblem("bad_message_type", f"Unknown message type {message_type!r}.", readable_id)


def schema_problem(version: str, message_type: int, action: str, payload: dict):
    """The first schema violation of a payload as (problem, description), or None.

    Valid payloads, nearly all of them, are checked by a compiled validator (about 20 times
    faster than jsonschema); only a payload it rejects is examined again by jsonschema, which
    names the violation precisely and has the final word.
    """
    try:
        _compiled(version, message_type, action)(payload)
        return None
    except JsonSchemaValueException:
        pass
    # 1.6 schemas use multipleOf 0.1, which binary floats cannot honour: compare as decimals.
    exact = json.loads(json.dumps(payload), parse_float=Decimal)
    error = best_match(_exact(version, message_type, action).iter_errors(exact))
    if error is None:
        return None
    problem = SCHEMA_KEYWORD_PROBLEM.get(error.validator, "property")
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    return problem, f"{where}: {error.message}"[:255]


def _schema_text(version: str, message_type: int, action: str) -> str:
    """The schema file the `ocpp` library uses for this message."""
    if message_type == CALLRESULT:
        name = f"{action}Response"
    else:
        name = action if version == "1.6" else f"{action}Request"
    folder = "v" + version.replace(".", "")
    path = Path(ocpp.__file__).parent / folder / "schemas" / f"{name}.json"
    return path.read_text(encoding="utf-8-sig")


@functools.cache
def _compiled(version: str, message_type: int, action: str):
    return fastjsonschema.compile(json.loads(_schema_text(version, message_type, action)))


@functools.cache
def _exact(version: str, message_type: int, action: str):
    schema = json.loads(_schema_text(version, message_type, action), parse_float=Decimal)
    return validator_for(schema)(schema)
