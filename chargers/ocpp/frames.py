"""OCPP-J frames: parsing with the checks the standard asks for, and writing; OCPP dateTimes.

A frame is a JSON array: [2, id, action, payload] (CALL), [3, id, payload] (CALLRESULT),
[4, id, code, description, details] (CALLERROR). Anything else is answered with the CALLERROR
its version names (`errors.CODES`), never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chargers.ocpp import JsonDict
from chargers.ocpp.errors import CallRefused, FrameProblem

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_UNIQUE_ID = 36


@dataclass(slots=True)
class Frame:
    message_type: int
    unique_id: str
    action: str | None
    payload: JsonDict
    error: list[Any] | None = None  # [code, description, details] of a CALLERROR


def storable(value: object) -> bool:
    """Whether every string in `value` is text PostgreSQL can keep."""
    text = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


MAX_DEPTH = 64


def _nests_deeper(value: object, limit: int) -> bool:
    """Whether `value` has arrays or objects nested more than `limit` levels (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# The start of a frame, up to its message id: `[2, "19223201"` (the id as OCPP-J allows it).
_FRAME_START = re.compile(r'\s*\[\s*\d\s*,\s*"([^"\\]{1,36})"')


def _readable_id(raw: str) -> str:
    """The message id of a frame that cannot be parsed, when its start can be read; else the
    "-1" OCPP-J answers with: the charger can then match the error to its call."""
    start = _FRAME_START.match(raw)
    return start.group(1) if start else "-1"


def parse(raw: str) -> Frame:
    """Parse an OCPP-J frame or raise FrameProblem naming what is wrong with it."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        raise FrameProblem(
            "not_json", "The message is not valid JSON.", _readable_id(raw)
        ) from None
    except RecursionError:
        too_deep = f"The message nests deeper than {MAX_DEPTH} levels."
        raise FrameProblem("format", too_deep, _readable_id(raw)) from None
    if not isinstance(message, list) or len(message) < 2:
        raise FrameProblem("bad_frame", "An OCPP-J message is a JSON array of 3 to 5 elements.")
    message_type, unique_id = message[0], message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        raise FrameProblem("bad_frame", "The message id must be a string of 1 to 36 characters.")
    if len(message) < 3:
        raise FrameProblem(
            "bad_frame", "An OCPP-J message is a JSON array of 3 to 5 elements.", unique_id
        )
    # Nothing in OCPP nests a tenth as deep; deeper input would only reach code that recurses
    # (encoders, validators). A message has at least as many brackets as levels: most frames
    # are settled by counting them.
    if raw.count("[") + raw.count("{") > MAX_DEPTH and _nests_deeper(message, MAX_DEPTH):
        raise FrameProblem(
            "format", f"The message nests deeper than {MAX_DEPTH} levels.", unique_id
        )
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
    if message_type == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameProblem("bad_frame", "A CALLRESULT is [3, id, payload].", unique_id)
        return Frame(CALLRESULT, unique_id, None, message[2])
    if message_type == CALLERROR:
        if len(message) not in (4, 5) or not all(isinstance(x, str) for x in message[2:4]):
            raise FrameProblem(
                "bad_frame", "A CALLERROR is [4, id, code, description, details].", unique_id
            )
        details = message[4] if len(message) == 5 else {}
        return Frame(CALLERROR, unique_id, None, {}, [message[2], message[3], details])
    raise FrameProblem("bad_message_type", f"Unknown message type {message_type!r}.", unique_id)


def dumps(message: list[Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def call(unique_id: str, action: str, payload: JsonDict) -> str:
    return dumps([CALL, unique_id, action, payload])


def call_result(unique_id: str, payload: JsonDict) -> str:
    return dumps([CALLRESULT, unique_id, payload])


def call_error(unique_id: str, code: str, description: str, details: JsonDict | None = None) -> str:
    return dumps([CALLERROR, unique_id, code, description[:255], details or {}])


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """An OCPP dateTime; a value that is not one is a PropertyConstraintViolation."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise CallRefused("property", f"{value!r} is not an RFC 3339 date-time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
