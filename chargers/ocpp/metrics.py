"""The protocol layer's Prometheus metrics, per server process (one daphne node).

Each is an in-process counter or histogram (prometheus-client): a message costs a dictionary
lookup and an addition, no I/O. `/metrics` (cpms.metrics) exposes them with the node's other
figures. Labels stay bounded: an action the version does not define counts as "unknown", so a
charger cannot mint series.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram

from chargers.ocpp.errors import CallErrorReply, CallReplyInvalid, Disconnected
from chargers.ocpp.frames import CALL, CALLERROR, CALLRESULT
from chargers.ocpp.library import ACTIONS

_T = TypeVar("_T")

KNOWN_ACTIONS = frozenset().union(*ACTIONS.values())
FRAME_TYPES = {CALL: "call", CALLRESULT: "result", CALLERROR: "error"}
# Handlers answer in milliseconds; a handler beyond 5 s is past a charger's patience.
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A command's round trip crosses a mobile network: up to its 30 s timeout.
ROUND_TRIP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)

CONNECTED = Gauge(
    "cpms_ocpp_connected_chargers", "Chargers connected to this node, by OCPP version", ["version"]
)
MESSAGES = Counter(
    "cpms_ocpp_messages",
    "OCPP frames by direction (in: from chargers), frame type and action (calls and the "
    "results of ours; replies sent carry no action)",
    ["direction", "type", "action"],
)
HANDLER_SECONDS = Histogram(
    "cpms_ocpp_handler_seconds",
    "Time from a charger's call to its answer being ready, by action",
    ["action"],
    buckets=HANDLER_BUCKETS,
)
ROUND_TRIP_SECONDS = Histogram(
    "cpms_ocpp_command_round_trip_seconds",
    "Time from sending a command to a charger to its reply, by action and outcome",
    ["action", "outcome"],
    buckets=ROUND_TRIP_BUCKETS,
)
HANDSHAKE_REFUSALS = Counter(
    "cpms_ocpp_handshake_refusals", "WebSocket upgrades refused, by reason", ["reason"]
)
ADMISSION_REFUSALS = Counter(
    "cpms_ocpp_admission_refusals",
    "WebSocket upgrades refused with 503 because this node had its most handshakes in progress",
)


def action_label(action: str | None) -> str:
    if not action:
        return ""
    return action if action in KNOWN_ACTIONS else "unknown"


def count_frame(incoming: bool, message_type: int, action: str | None) -> None:
    """One frame in or out (the consumer's message log sees each)."""
    MESSAGES.labels(
        "in" if incoming else "out",
        FRAME_TYPES.get(message_type, "malformed"),
        action_label(action),
    ).inc()


async def handled(action: str | None, answer: Awaitable[_T]) -> _T:
    """Await a handler's `answer` and time it, whether it answers or fails."""
    started = time.perf_counter()
    try:
        return await answer
    finally:
        HANDLER_SECONDS.labels(action_label(action)).observe(time.perf_counter() - started)


async def round_trip(action: str, reply: Awaitable[_T]) -> _T:
    """Await a command's `reply` and time it, with how it ended."""
    started = time.perf_counter()
    outcome = "answered"
    try:
        return await reply
    except CallErrorReply:
        outcome = "call_error"
        raise
    except CallReplyInvalid:
        outcome = "invalid_reply"
        raise
    except (TimeoutError, Disconnected):
        outcome = "unanswered"
        raise
    except BaseException:
        outcome = "failed"
        raise
    finally:
        ROUND_TRIP_SECONDS.labels(action_label(action), outcome).observe(
            time.perf_counter() - started
        )
