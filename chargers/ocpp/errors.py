"""CALLERROR codes as each OCPP version spells them, and the exceptions of the RPC layer.

The standards name the same faults differently (1.6's FormationViolation is 2.0.1's
FormatViolation); our code names a fault once (`"format"`) and answers in the socket's version.
"""

from __future__ import annotations

from dataclasses import dataclass

from chargers.ocpp import JsonDict

# Our names for what went wrong -> the code each version uses for it (some alike in all).
SPELLED_ALIKE = {
    "type": "TypeConstraintViolation",
    "property": "PropertyConstraintViolation",
    "unknown_action": "NotImplemented",
    "unsupported_action": "NotSupported",
    "security": "SecurityError",
    "internal": "InternalError",
}
CODES = {
    "1.6": {
        "not_json": "FormationViolation",
        "bad_frame": "FormationViolation",
        "bad_message_type": "FormationViolation",
        "format": "FormationViolation",
        "occurrence": "OccurenceConstraintViolation",
        **SPELLED_ALIKE,
    },
    "2.0.1": {
        "not_json": "RpcFrameworkError",
        "bad_frame": "RpcFrameworkError",
        "bad_message_type": "MessageTypeNotSupported",
        "format": "FormatViolation",
        "occurrence": "OccurrenceConstraintViolation",
        **SPELLED_ALIKE,
    },
}
CODES["2.1"] = CODES["2.0.1"]

# What a charger is told when a handler fails for a reason of ours.
INTERNAL_ERROR = "An unexpected error occurred."


@dataclass
class FrameProblem(Exception):
    """A frame answered with a CALLERROR before any handler runs (`problem` is a key of
    CODES); `unique_id` is the frame's id when it could be read."""

    problem: str
    description: str
    unique_id: str = "-1"

    def code(self, version: str) -> str:
        return CODES[version][self.problem]


class CallRefused(FrameProblem):
    """Raised by a handler: the CALL passed its schema, but what it says cannot be (a date
    that is not one, a transaction on connector 0). Answered with the version's code."""


class CallErrorReply(Exception):
    """The charger answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: object):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details


class Disconnected(Exception):
    """The socket closed before the charger answered our CALL (or before it was sent)."""


class CallReplyInvalid(Exception):
    """The charger's CALLRESULT does not match the schema of the action."""

    def __init__(self, payload: JsonDict, problem: str):
        super().__init__(problem)
        self.payload, self.problem = payload, problem
