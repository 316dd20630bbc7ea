"""Payload validation against each version's JSON schemas.

Valid payloads, nearly all of them, are checked by a compiled validator (fastjsonschema, about
20 times faster than jsonschema); only a payload it rejects is examined again by jsonschema,
which names the violation precisely and has the final word.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal

import fastjsonschema
from fastjsonschema import JsonSchemaValueException
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from chargers.ocpp import JsonDict
from chargers.ocpp.frames import CALL, CALLRESULT
from chargers.ocpp.library import ACTIONS, schema_text

# The failed schema keyword -> our name for the problem (errors.CODES); "property" otherwise.
SCHEMA_KEYWORD_PROBLEM = {
    "type": "type",
    "required": "occurrence",
    "minItems": "occurrence",
    "maxItems": "occurrence",
    "additionalProperties": "format",
}


def schema_problem(
    version: str, message_type: int, action: str, payload: JsonDict
) -> tuple[str, str] | None:
    """The first schema violation of a CALL's or CALLRESULT's payload as (problem,
    description), or None. The action must be one of the version's (`library.ACTIONS`)."""
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


# Actions a domain sends and records itself. Sent raw, they would leave no record, and a raw
# ReserveNow could reuse a reservation id the server allocates to another reservation.
SENT_BY_A_DOMAIN = {
    "ReserveNow": "Reserve through the reservations (POST /api/v1/reservations/): the "
    "reservation is recorded there and its id allocated.",
    "CancelReservation": "Cancel through the reservations "
    "(POST /api/v1/reservations/{id}/cancel/), which record it.",
}


def request_problem(version: str, action: str, payload: JsonDict) -> tuple[str, str] | None:
    """Why a raw CALL an operator wrote is not one to send, as (field, message): `action`
    when the version has no such action or a domain sends it, `payload` or `payload.<path>`
    for the first schema violation. None when it may be sent."""
    if action not in ACTIONS.get(version, ()):
        return "ocpp_action", f"{action} is not an OCPP {version} action."
    if action in SENT_BY_A_DOMAIN:
        return "ocpp_action", SENT_BY_A_DOMAIN[action]
    problem = schema_problem(version, CALL, action, payload)
    if problem is None:
        return None
    where, _, message = problem[1].partition(": ")
    return ("payload" if where == "payload" else f"payload.{where.replace('/', '.')}"), (
        message or problem[1]
    )


# The schemas bound few numbers; what a charger sends must also fit what we store. Unbounded
# integers get the range of a database integer, those named here a range of their own (ids
# and counters are never negative; a meter register in Wh is below a terawatt-hour); sampled
# values are checked as read (samples.READING_LIMIT). Out of range is the standard's property
# violation.
INTEGER = (-(2**31), 2**31 - 1)
BOUNDS_BY_NAME = {
    "connectorId": (0, 2**31 - 1),
    "evseId": (0, 2**31 - 1),
    "id": (0, 2**31 - 1),
    "seqNo": (0, 2**31 - 1),
    "meterStart": (0, 10**12),
    "meterStop": (0, 10**12),
}


def _bounded(schema: object) -> None:
    """Give every unbounded integer in a request schema the range we can store (in place)."""
    if isinstance(schema, list):
        for item in schema:
            _bounded(item)
        return
    if not isinstance(schema, dict):
        return
    for name, field in (schema.get("properties") or {}).items():
        if field.get("type") == "integer" and "maximum" not in field:
            low, high = BOUNDS_BY_NAME.get(name, INTEGER)
            field.setdefault("minimum", low)
            field["maximum"] = high
    for value in schema.values():
        _bounded(value)


def _schema(
    version: str,
    message_type: int,
    action: str,
    *,
    parse_float: Callable[[str], object] | None = None,
) -> JsonDict:
    text = schema_text(version, action, response=message_type == CALLRESULT)
    schema: JsonDict = json.loads(text, parse_float=parse_float)
    if message_type == CALL:
        _bounded(schema)
    return schema


@functools.cache
def _compiled(version: str, message_type: int, action: str) -> Callable[[JsonDict], object]:
    return fastjsonschema.compile(_schema(version, message_type, action))


@functools.cache
def _exact(version: str, message_type: int, action: str) -> Validator:
    schema = _schema(version, message_type, action, parse_float=Decimal)
    return validator_for(schema)(schema)
