"""What the central system does the same way for every OCPP version.

Each version's module subclasses the library's `ChargePoint` with this mixin first. The mixin
owns the frame: it parses and checks it, answers malformed input with the CALLERROR the
version's standard names, refuses everything but BootNotification from a charger that is not
Accepted, validates payloads against the version's schemas, and only then lets the library call
our handler (registered with `skip_schema_validation=True`, since the check already ran). It
also runs the handler itself (`_handle_call`): the library's own dispatch re-reads the
handler's signature and re-converts every key with regular expressions on every message.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from functools import lru_cache

from django.db import transaction
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.messages import Call, CallError, CallResult

from chargers.ocpp import errors
from chargers.ocpp.dbwork import in_db
from chargers.ocpp.errors import FrameProblem
from chargers.services.connections import message_log_append

log = logging.getLogger(__name__)

# Security events the OCPP security whitepaper marks critical: they raise an alert.
CRITICAL_SECURITY_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)


class CallErrorReply(Exception):
    """The charger answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details):
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details


class CallReplyInvalid(Exception):
    """The charger's CALLRESULT does not match the schema of the action."""

    def __init__(self, payload: dict, problem: str):
        super().__init__(problem)
        self.payload, self.problem = payload, problem


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """An OCPP dateTime; a value that is not one is a PropertyConstraintViolation."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PropertyConstraintViolationError(
            description=f"{value!r} is not an RFC 3339 date-time."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def snake_key(key: str) -> str:
    """The library's snake_case spelling of a payload key, worked out once per key."""
    return next(iter(camel_to_snake_case({key: None})))


def snake_keys(data):
    """`camel_to_snake_case`, with each key's spelling cached."""
    if isinstance(data, dict):
        return {snake_key(key): snake_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_keys(value) for value in data]
    return data


class CentralSystemMixin:
    version: str  # "1.6", "2.0.1", "2.1"
    known_actions: frozenset[str]  # every action name of the version
    # Chargers that are not Accepted may still send these (BootNotification, always).
    allowed_before_accepted = frozenset({"BootNotification"})

    def __init__(self, *, consumer, charger_id: int, identity: str, registration_status: str):
        super().__init__(identity, consumer, response_timeout=30)
        self.consumer = consumer
        self.charger_id = charger_id
        self.registration_status = registration_status
        self.pending_actions: dict[str, str] = {}  # our CALL ids -> action, for the log
        self._payload: dict = {}

    def db(self, function):
        """Run a service on the ORM's thread, in this socket's tenant scope.

        The message log rows gathered since the last trip ride along in the same trip, so
        the log costs no thread hop of its own.
        """

        async def run(*args, **kwargs):
            rows = self.consumer.take_log()

            def work():
                # One transaction, so one commit, for the log rows and the message's facts.
                try:
                    with transaction.atomic():
                        if rows:
                            message_log_append(rows)
                        return function(*args, **kwargs)
                except Exception:
                    # The frames were received all the same: keep them for the log.
                    if rows:
                        message_log_append(rows)
                    raise

            return await in_db(work)()

        return run

    @property
    def accepted(self) -> bool:
        return self.registration_status == "Accepted"

    # --- Incoming ------------------------------------------------------------------------

    async def route_message(self, raw: str) -> None:
        try:
            frame = errors.parse(raw)
        except FrameProblem as problem:
            self.consumer.log_frame(True, raw, 0, problem.unique_id, None)
            await self._send(problem.call_error(self.version))
            return
        if frame.message_type == errors.CALL:
            self.consumer.log_frame(
                True, raw, errors.CALL, frame.unique_id, frame.action, frame.payload
            )
            await self._on_call(frame)
            return
        action = self.pending_actions.get(frame.unique_id)
        self.consumer.log_frame(
            True, raw, frame.message_type, frame.unique_id, action, frame.payload
        )
        if frame.message_type == errors.CALLRESULT:
            self._response_queue.put_nowait(CallResult(frame.unique_id, frame.payload))
        else:
            self._response_queue.put_nowait(CallError(frame.unique_id, *frame.error))

    async def _on_call(self, frame: errors.Frame) -> None:
        try:
            self._check_call(frame)
        except FrameProblem as problem:
            await self._send(problem.call_error(self.version))
            return
        # Handlers that keep a message verbatim read it here; calls are handled one at a time.
        self._payload = frame.payload
        await self._handle_call(Call(frame.unique_id, frame.action, frame.payload))

    async def _handle_call(self, msg: Call) -> None:
        """Run the action's handler and answer: a CALLRESULT, or the CALLERROR for what it
        raised (OCPP errors by their code, anything else InternalError), as the library does.
        _check_call has vouched for the action and the payload."""
        handler = self.route_map[msg.action]["_on_action"]
        try:
            response = await handler(**snake_keys(msg.payload))
        except Exception as error:
            log.exception("Error while handling %s from %s", msg.action, self.id)
            await self._send(msg.create_call_error(error).to_json())
            return
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        await self._send(msg.create_call_result(payload).to_json())

    def _check_call(self, frame: errors.Frame) -> None:
        action = frame.action
        if action not in self.known_actions:
            raise FrameProblem(
                "unknown_action",
                f"{action!r} is not an OCPP {self.version} action.",
                frame.unique_id,
            )
        if action not in self.route_map:
            raise FrameProblem(
                "unsupported_action",
                f"{action} is not something a charger sends to a central system.",
                frame.unique_id,
            )
        if not self.accepted and action not in self.allowed_before_accepted:
            raise FrameProblem(
                "security",
                f"The charger is {self.registration_status}; only "
                "BootNotification is accepted until then.",
                frame.unique_id,
            )
        problem = errors.schema_problem(self.version, errors.CALL, action, frame.payload)
        if problem is not None:
            raise FrameProblem(problem[0], problem[1], frame.unique_id)

    # --- Outgoing ------------------------------------------------------------------------

    async def _send(self, message: str) -> None:
        if self.consumer.closing:
            return
        await self.consumer.send(text_data=message)
        message_type, unique_id = json.loads(message)[:2]
        self.consumer.log_frame(False, message, message_type, unique_id, None)

    async def call_raw(self, action: str, payload: dict, *, wait_seconds: float = 30) -> dict:
        """Send one CALL with a raw payload and return the reply's payload.

        Raises CallErrorReply, CallReplyInvalid or TimeoutError. The library's lock keeps one
        CALL outstanding per charger; others wait their turn here.
        """
        problem = errors.schema_problem(self.version, errors.CALL, action, payload)
        if problem is not None:
            raise ValueError(f"{action} payload invalid for OCPP {self.version}: {problem[1]}")
        unique_id = str(self._unique_id_generator())
        message = json.dumps([errors.CALL, unique_id, action, payload], separators=(",", ":"))
        async with self._call_lock:
            self.pending_actions[unique_id] = action
            self.consumer.log_frame(False, message, errors.CALL, unique_id, action, payload)
            try:
                await self.consumer.send(text_data=message)
                started = time.monotonic()
                response = await self._get_specific_response(unique_id, wait_seconds)
                log.debug("%s %s answered in %.3fs", self.id, action, time.monotonic() - started)
            except TimeoutError:
                raise TimeoutError(f"No reply to {action} within {wait_seconds:g} s.") from None
            finally:
                self.pending_actions.pop(unique_id, None)
        if isinstance(response, CallError):
            raise CallErrorReply(
                response.error_code, response.error_description, response.error_details
            )
        problem = errors.schema_problem(self.version, errors.CALLRESULT, action, response.payload)
        if problem is not None:
            raise CallReplyInvalid(response.payload, problem[1])
        return response.payload
