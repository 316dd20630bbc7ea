"""OCPP-J RPC over one charger's socket: ours from the frame to the handler and back.

Incoming: a frame is parsed (`frames.parse`), a CALL is checked (a known action of the
version, one we handle, allowed now, valid against its schema) and handed to the handler the
version's class registered with `@handles`, as sent (camelCase); the handler returns the reply
payload as it goes out, and any refusal is answered with the version's CALLERROR code.
Outgoing: `call` sends one CALL with a fresh uuid4 id, one at a time per charger, and waits
for the reply with that id; a reply nobody waits for (late, unknown) is logged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from chargers.ocpp import JsonDict, frames, metrics
from chargers.ocpp.errors import (
    CODES,
    INTERNAL_ERROR,
    CallErrorReply,
    CallReplyInvalid,
    Disconnected,
    FrameProblem,
)
from chargers.ocpp.frames import CALL, CALLERROR, CALLRESULT, Frame
from chargers.ocpp.library import ACTIONS
from chargers.ocpp.schemas import schema_problem

log = logging.getLogger(__name__)

# A handler method: (the central system, the CALL's payload) -> the reply's payload.
Handler = Callable[[Any, JsonDict], Awaitable[JsonDict]]
_H = TypeVar("_H", bound=Handler)


def handles(action: str) -> Callable[[_H], _H]:
    """Register a method as the handler of the CALLs of `action`: it takes the payload as
    sent and returns the reply's payload, both camelCase dicts."""

    def register(handler: _H) -> _H:
        handler.ocpp_action = action  # type: ignore[attr-defined]
        return handler

    return register


class Socket(Protocol):
    """What the RPC needs of the consumer holding the socket."""

    closing: bool

    async def send(self, text_data: str | None = None) -> None: ...

    def log_frame(
        self,
        incoming: bool,
        raw: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        payload: JsonDict | None = None,
    ) -> None: ...


@dataclass(slots=True)
class _Pending:
    action: str
    reply: asyncio.Future[Frame]


class Endpoint:
    """The RPC of one socket, for one OCPP version; subclasses register their handlers."""

    version: ClassVar[str]  # "1.6", "2.0.1", "2.1"
    known_actions: ClassVar[frozenset[str]] = frozenset()  # every action of the version
    handlers: ClassVar[dict[str, Handler]] = {}  # action -> handler, built per class

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, Handler] = {}
        # Base classes first, so that a subclass's handler of an action wins.
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                action = getattr(value, "ocpp_action", None)
                if action is not None:
                    handlers[action] = value
        cls.handlers = handlers
        if hasattr(cls, "version"):
            cls.known_actions = ACTIONS[cls.version]

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        # One CALL of ours outstanding per charger, as OCPP-J asks; the others queue here.
        self._calling = asyncio.Lock()
        self._pending: dict[str, _Pending] = {}
        self.closed = False
        # Work a handler asks for once its answer is sent (`after_answer`), and the tasks
        # running it.
        self._after_answer: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._follow_ups: set[asyncio.Task[None]] = set()

    def connection_lost(self) -> None:
        """The socket has closed: the calls still waiting for a reply fail with Disconnected,
        and so do those queued behind them. A reply that arrived before the close stands."""
        self.closed = True
        for pending in self._pending.values():
            if not pending.reply.done():
                pending.reply.set_exception(
                    Disconnected("The charger disconnected before answering.")
                )

    # --- Incoming ------------------------------------------------------------------------

    async def receive(self, raw: str) -> None:
        """Handle one frame from the charger: answer a CALL, or hand a reply to its caller."""
        try:
            frame = frames.parse(raw)
        except FrameProblem as problem:
            self.socket.log_frame(True, raw, 0, problem.unique_id, None)
            await self._send_error(problem.unique_id, problem)
            return
        if frame.message_type == CALL:
            self.socket.log_frame(True, raw, CALL, frame.unique_id, frame.action, frame.payload)
            await self._answer(frame)
            return
        pending = self._pending.get(frame.unique_id)
        action = pending.action if pending is not None else None
        self.socket.log_frame(True, raw, frame.message_type, frame.unique_id, action, frame.payload)
        if pending is not None and not pending.reply.done():
            pending.reply.set_result(frame)

    def refusal(self, action: str) -> FrameProblem | None:
        """Why a valid CALL of a handled action may not be handled now; None when it may."""
        return None

    def handler_for(self, frame: Frame) -> Handler:
        """The handler of a CALL, or FrameProblem saying why it gets none."""
        action = frame.action or ""  # a CALL always names one
        handler = self.handlers.get(action)
        if handler is None:
            if action not in self.known_actions:
                raise FrameProblem(
                    "unknown_action", f"{action!r} is not an OCPP {self.version} action."
                )
            raise FrameProblem(
                "unsupported_action",
                f"{action} is not something a charger sends to a central system.",
            )
        refusal = self.refusal(action)
        if refusal is not None:
            raise refusal
        problem = schema_problem(self.version, CALL, action, frame.payload)
        if problem is not None:
            raise FrameProblem(*problem)
        return handler

    async def _answer(self, frame: Frame) -> None:
        self._after_answer = []
        try:
            handler = self.handler_for(frame)
            reply = await metrics.handled(frame.action, handler(self, frame.payload))
        except FrameProblem as problem:
            await self._send_error(frame.unique_id, problem)
            return
        except Exception:
            log.exception("Error while handling %s from %s", frame.action, self.describe())
            await self._send_error(frame.unique_id, FrameProblem("internal", INTERNAL_ERROR))
            return
        await self._send(frames.call_result(frame.unique_id, reply), CALLRESULT, frame.unique_id)
        follow_ups, self._after_answer = self._after_answer, []
        for work in follow_ups:
            task = asyncio.create_task(work())
            self._follow_ups.add(task)
            task.add_done_callback(self._follow_ups.discard)

    @property
    def follow_ups(self) -> set[asyncio.Task[None]]:
        """The tasks running what answers called for, still running."""
        return set(self._follow_ups)

    def after_answer(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work()` as a task of its own once the answer to the message being handled is
        sent (a command the answer calls for: a handler never waits for the charger)."""
        self._after_answer.append(work)

    async def _send_error(self, unique_id: str, problem: FrameProblem) -> None:
        code = CODES[self.version][problem.problem]
        # The charger's mistake, not ours: one line, no traceback (ours are logged as errors).
        log.info(
            "%s message %s answered %s: %s", self.describe(), unique_id, code, problem.description
        )
        await self._send(
            frames.call_error(unique_id, code, problem.description), CALLERROR, unique_id
        )

    async def _send(self, message: str, message_type: int, unique_id: str) -> None:
        if self.socket.closing:
            return
        await self.socket.send(text_data=message)
        self.socket.log_frame(False, message, message_type, unique_id, None)

    def describe(self) -> str:
        return type(self).__name__

    # --- Outgoing ------------------------------------------------------------------------

    async def call(self, action: str, payload: JsonDict, *, wait_seconds: float = 30) -> JsonDict:
        """Send one CALL and return the payload of the charger's CALLRESULT.

        Raises ValueError (before sending) for an action or payload the version does not
        allow, CallErrorReply for a CALLERROR, CallReplyInvalid for a reply that breaks the
        action's response schema, TimeoutError when no reply comes within `wait_seconds`
        of sending, Disconnected when the socket closes first. Calls wait here for the one
        before them to be answered.
        """
        if action not in self.known_actions:
            raise ValueError(f"{action} is not an OCPP {self.version} action.")
        problem = schema_problem(self.version, CALL, action, payload)
        if problem is not None:
            raise ValueError(f"{action} payload invalid for OCPP {self.version}: {problem[1]}")
        async with self._calling:
            if self.closed:
                raise Disconnected("The charger disconnected before the command was sent.")
            unique_id = str(uuid.uuid4())
            message = frames.call(unique_id, action, payload)
            pending = _Pending(action, asyncio.get_running_loop().create_future())
            self._pending[unique_id] = pending
            try:
                self.socket.log_frame(False, message, CALL, unique_id, action, payload)
                await self.socket.send(text_data=message)
                async with asyncio.timeout(wait_seconds):
                    reply = await pending.reply
            except TimeoutError:
                raise TimeoutError(f"No reply to {action} within {wait_seconds:g} s.") from None
            finally:
                del self._pending[unique_id]
        if reply.error is not None:  # a CALLERROR
            raise CallErrorReply(*reply.error)
        problem = schema_problem(self.version, CALLRESULT, action, reply.payload)
        if problem is not None:
            raise CallReplyInvalid(reply.payload, problem[1])
        return reply.payload
