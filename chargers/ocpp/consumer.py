"""The OCPP WebSocket: transport only.

It admits the charger and opens its tenant's scope for the socket's life (`handshake`), hands
each frame to the version's central system (`rpc`, `base`, `v16`, `v201`), runs commands from
other processes as tasks of their own, and keeps the message log.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import socket
from typing import Any

from asgiref.typing import WebSocketDisconnectEvent
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from chargers.commands import asend_command
from chargers.dashboard import push
from chargers.models import CommandStatus
from chargers.ocpp import JsonDict, admission, batches, handshake, metrics, registration
from chargers.ocpp.base import CentralSystem
from chargers.ocpp.dbwork import in_db
from chargers.ocpp.errors import CallErrorReply, CallReplyInvalid, Disconnected
from chargers.ocpp.frames import CALL, CALLRESULT
from chargers.ocpp.readers import CONFIGURATION_ACTIONS, ReplyFacts, reply_facts
from chargers.ocpp.redact import REDACTED_ACTIONS, redact_payload
from chargers.ocpp.v16 import CentralSystem16
from chargers.ocpp.v201 import CentralSystem21, CentralSystem201
from chargers.selectors.chargers import charger_registration_status
from chargers.services.chargers import charger_password_accepted
from chargers.services.commands import command_finish, command_mark_sent
from chargers.services.connections import (
    charger_touch,
    chargers_touch,
    connection_close,
    message_log_append,
)
from chargers.services.device_model import device_model_values_store
from cpms import draining
from cpms.tenancy import scoping

log = logging.getLogger(__name__)

NODE = f"{socket.gethostname()}:{os.getpid()}"
CENTRAL_SYSTEMS = {"1.6": CentralSystem16, "2.0.1": CentralSystem201, "2.1": CentralSystem21}
# How often the chargers heard from get their last_seen written: liveness without a write
# per message.
TOUCH_EVERY = 30.0
LOG_BODY_LIMIT = 8000
LOG_BATCH = 20
# Commands waiting for this charger beyond the one in flight; more is a clear refusal.
MAX_QUEUED_COMMANDS = 16


class _PartlyAnswered(Exception):
    """A command sent in parts whose first parts were answered and a later one was not."""

    def __init__(self, reply: JsonDict, problem: str) -> None:
        super().__init__(problem)
        self.reply = reply
        self.problem = problem


def loggable(frame: str) -> str:
    """A frame as the log can keep it. Frames arrive as valid UTF-8 and parsed text that no
    database stores is refused (frames.parse), but a frame that is not JSON may still hold a
    raw NUL character, which PostgreSQL's text type refuses: it becomes U+FFFD."""
    return frame.replace("\x00", "\ufffd") if "\x00" in frame else frame


# Chargers of this process heard from since their last_seen was last written: one UPDATE
# every TOUCH_EVERY for all of them, rather than one per charger.
_heard: dict[int, str] = {}  # charger id -> the channel name of the socket heard from
_liveness_writer: asyncio.Task[None] | None = None


async def _write_liveness() -> None:
    """Every TOUCH_EVERY seconds, the last_seen of every charger this process heard from.
    A task of the process, not of a socket: it runs in a context of its own (no tenant's
    scope); the service says where it works across tenants."""
    global _heard
    while True:
        await asyncio.sleep(TOUCH_EVERY)
        heard, _heard = _heard, {}
        if heard:
            try:
                await in_db(chargers_touch)(sockets=heard)
            except Exception:  # the next round writes them again; silence needs 3 heartbeats
                _heard = heard | _heard
                log.warning(
                    "could not write the liveness of %d chargers", len(heard), exc_info=True
                )


def _ensure_liveness_writer() -> None:
    global _liveness_writer
    loop = asyncio.get_running_loop()
    if (
        _liveness_writer is None
        or _liveness_writer.done()
        or _liveness_writer.get_loop() is not loop
    ):
        # Started from the first socket's connect(), it must not inherit that socket's context
        # (its tenant's scope): a task copies the context it is created in unless given one.
        _liveness_writer = loop.create_task(_write_liveness(), context=contextvars.Context())


class OcppConsumer(AsyncWebsocketConsumer):
    closing = False
    central: CentralSystem | None = None
    silenced = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels does, without its close_old_connections hop to the sync thread before
        every frame: this consumer touches the database only through `in_db`, whose threads
        look after their own connections. Dashboard pushes from that work come back here."""
        if push.socket_loop.get() is None:
            push.socket_loop.set(asyncio.get_running_loop())
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: WebSocketDisconnectEvent) -> None:
        """As Channels does, without its hop to the sync thread to close old connections (see
        `dispatch`): a socket's end, a refused upgrade's among them, must not queue behind
        other work on that thread (a storm refused at the bound stays cheap)."""
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(message["code"])
        raise StopConsumer

    async def connect(self) -> None:
        if draining.draining():
            # The node is being stopped: 503 lets the proxy try another node.
            metrics.HANDSHAKE_REFUSALS.labels("draining").inc()
            await self.refuse(503)
            return
        with admission.handshakes.slot() as admitted:
            if not admitted:
                # Before any database work: a storm past the bound costs a counter (most of
                # it refused before a consumer is built: `admission.Door`).
                await self.refuse(503, headers=admission.retry_headers())
                return
            await self._admit()

    async def _admit(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        client = self.scope.get("client") or ["", 0]
        opened = await in_db(handshake.open_socket)(
            tenant_slug=kwargs["tenant_slug"],
            identity=kwargs["charge_point_id"],
            offered=list(self.scope.get("subprotocols", [])),
            headers=dict(self.scope.get("headers", [])),
            remote_addr=str(client[0]),
            channel_name=self.channel_name,
            node=NODE,
        )
        if isinstance(opened, handshake.Refused):
            metrics.HANDSHAKE_REFUSALS.labels(opened.reason).inc()
            await self.refuse(opened.status)
            return
        # The OCPP door: open_socket activated the tenant's scope on the database thread, and
        # asgiref handed it back to this task, for everything the socket does from now on.
        # Without it the socket's work would run unscoped: refuse the socket rather than guess.
        if scoping.current_tenant() is not opened.tenant:
            raise RuntimeError("the OCPP door's tenant scope did not reach the consumer")
        self.charger = opened.charger
        self.connection_event_id = opened.connection_event_id
        self.log_rows: list[dict[str, Any]] = []
        self.command_tasks: set[asyncio.Task[None]] = set()
        _ensure_liveness_writer()
        # Ready before the accept: a client gone by then is recorded gone by disconnect().
        self.central = CENTRAL_SYSTEMS[opened.version](
            self,
            charger_id=self.charger.pk,
            identity=self.charger.identity,
            registration_status=self.charger.registration_status,
        )
        await self.accept(subprotocol=opened.subprotocol)
        metrics.CONNECTED.labels(opened.version).inc()
        if opened.previous_channel:
            # The newest authenticated socket wins; the old one may be half-open.
            await self.channel_layer.send(opened.previous_channel, {"type": "ocpp.replaced"})

    async def refuse(self, status: int, headers: admission.Headers = ()) -> None:
        """Answer the upgrade with `status` (and `headers`) where the server lets the
        application choose it (ASGI's denial response: `manage.py serve`, cpms/daphne.py); else
        with its 403."""
        if "websocket.http.response" not in (self.scope.get("extensions") or {}):
            await self.close()
            return
        await admission.deny(self.base_send, status, headers)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.central is None:
            return
        if text_data is None:
            text_data = bytes_data.decode("utf-8", errors="replace") if bytes_data else ""
        if self.silenced:
            # Marked offline for silence while this socket stayed open: this frame proves
            # otherwise, so the state is put right at once.
            self.silenced = False
            await in_db(charger_touch)(charger_id=self.charger.pk, channel_name=self.channel_name)
        else:
            _heard[self.charger.pk] = self.channel_name
        await self.central.receive(text_data)
        # Log rows usually ride along with the next service call; a charger that only
        # heartbeats gets its rows written once enough have gathered.
        if len(self.log_rows) >= LOG_BATCH:
            await self.flush_log()

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.central is None:
            return
        # Commands waiting for a reply end as unanswered; one answered just before the close
        # is recorded as answered (cancelling it could drop the record queued for the
        # database, and with it a new password the charger now uses). Then the socket's books.
        self.central.connection_lost()
        metrics.CONNECTED.labels(self.central.version).dec()
        if self.command_tasks:
            await asyncio.wait(self.command_tasks)
        # Commands the last answers called for are recorded (sent, or found offline) first.
        if follow_ups := self.central.follow_ups:
            await asyncio.wait(follow_ups)
        await self.flush_log()
        await in_db(connection_close)(
            charger_id=self.charger.pk,
            channel_name=self.channel_name,
            connection_event_id=self.connection_event_id,
            reason=f"closed ({code})",
        )

    # --- Events from other processes ------------------------------------------------------

    async def server_drain(self, event: dict[str, Any]) -> None:
        """The node is being stopped (cpms/daphne.py): the frames received before this event
        are answered by now; going away (1001) tells the charger to reconnect, elsewhere."""
        if self.central is not None:  # a refused upgrade has nothing to close
            self.closing = True
            await self.close(code=1001)

    async def ocpp_replaced(self, event: dict[str, Any]) -> None:
        self.closing = True
        await self.close(code=4000)

    async def charger_silenced(self, event: dict[str, Any]) -> None:
        self.silenced = True

    async def charger_changed(self, event: dict[str, Any]) -> None:
        if self.central is None:  # not admitted: no charger to follow
            return
        was_accepted = self.central.accepted
        self.central.registration_status = await in_db(charger_registration_status)(
            charger_id=self.charger.pk
        )
        if self.central.accepted and not was_accepted:
            # Approved while connected: the charger learns it from a BootNotification's answer
            # (B02), so it is asked for one now rather than at the end of its Pending interval.
            # A command like any other (recorded, its own task); nothing waits for it here.
            await asend_command(
                self.charger,
                *registration.BOOT_AGAIN,
                source=registration.APPROVAL_SOURCE,
                wait=False,
            )

    async def ocpp_command(self, event: dict[str, Any]) -> None:
        """Run a command as its own task: awaiting the reply here would block this socket's
        incoming frames, including the reply itself."""
        if len(self.command_tasks) > MAX_QUEUED_COMMANDS:
            await self._finish(
                event,
                CommandStatus.REFUSED,
                error="Too many commands queued for this charger; try later.",
            )
            return
        task = asyncio.create_task(self._run_command(event))
        self.command_tasks.add(task)
        task.add_done_callback(self.command_tasks.discard)

    async def _run_command(self, event: dict[str, Any]) -> None:
        if self.central is None:  # not admitted: commands go to admitted sockets only
            return
        command_id = event["command_id"]
        central = self.central
        if refused := registration.command_refusal(event["action"], central.registration_status):
            await self._finish(event, CommandStatus.REFUSED, error=refused)
            return
        await in_db(command_mark_sent)(command_id=command_id)
        if not central.accepted:
            # Expected from before the request leaves: the charger may send what it was asked
            # for before this task has read its reply. A request it declines is not followed by
            # the message; the expectation then just lapses.
            central.expect(
                registration.messages_requested(
                    event["action"], event["payload"], registration.ACCEPTED
                )
            )
        try:
            reply = await metrics.round_trip(event["action"], self._call_in_parts(central, event))
        except _PartlyAnswered as partly:
            # The parts answered were applied by the charger: their facts are kept too.
            facts = reply_facts(event["action"], event["payload"], partly.reply)
            await self._finish(
                event,
                CommandStatus.ANSWERED,
                response=partly.reply,
                error=partly.problem,
                facts=facts,
            )
        except CallErrorReply as error:
            await self._finish(
                event,
                CommandStatus.CALL_ERROR,
                response=error.details,
                error=f"{error.code}: {error.description}",
            )
        except CallReplyInvalid as invalid:
            await self._finish(
                event,
                CommandStatus.ANSWERED,
                response=invalid.payload,
                error=f"Reply does not match the schema: {invalid.problem}",
            )
        except (TimeoutError, Disconnected) as unanswered:
            await self._finish(event, CommandStatus.TIMEOUT, error=str(unanswered))
        except ValueError as invalid:
            await self._finish(event, CommandStatus.REFUSED, error=str(invalid))
        except asyncio.CancelledError:
            await in_db(command_finish)(
                command_id=command_id,
                status=CommandStatus.TIMEOUT,
                error="The charger disconnected before answering.",
            )
            raise
        else:
            # What the answer establishes (a password the charger now uses, device-model
            # values it holds) is kept with the outcome, in the same trip.
            facts = reply_facts(event["action"], event["payload"], reply)
            await self._finish(event, CommandStatus.ANSWERED, response=reply, facts=facts)
        await self.flush_log()

    async def _call_in_parts(self, central: CentralSystem, event: dict[str, Any]) -> JsonDict:
        """Send the command, as several messages when it names more attributes than the
        charger takes in one (`batches`), within the command's timeout altogether."""
        action, payload = event["action"], event["payload"]
        wait_seconds = event.get("timeout", 30)
        parts = [payload]
        if action in batches.LIMITED:
            items, size = await in_db(batches.message_limits)(
                charger_id=self.charger.pk, action=action
            )
            parts = batches.split(action, payload, items=items, size=size)
        if len(parts) == 1:
            return await central.call(action, payload, wait_seconds=wait_seconds)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + wait_seconds
        replies: list[JsonDict] = []
        for part in parts:
            try:
                left = max(give_up_at - loop.time(), 0.001)
                replies.append(await central.call(action, part, wait_seconds=left))
            except (CallErrorReply, CallReplyInvalid, TimeoutError, Disconnected) as error:
                if not replies:
                    raise
                problem = f"Part {len(replies) + 1} of {len(parts)} unanswered: {error}"
                raise _PartlyAnswered(batches.merge(action, replies), problem) from error
        return batches.merge(action, replies)

    async def _finish(
        self,
        event: dict[str, Any],
        status: str,
        *,
        response: object = None,
        error: str = "",
        facts: ReplyFacts | None = None,
    ) -> None:
        action = event["action"]
        stored = redact_payload(action, response, response=True)
        # The exchange's log rows are written with the outcome, before anyone is told of it.
        rows = self.take_log()
        charger_id = self.charger.pk

        def record() -> None:
            if rows:
                message_log_append(rows)
            if facts is not None and facts.password is not None:
                charger_password_accepted(charger_id=charger_id, password=facts.password)
            if facts is not None and facts.values:
                device_model_values_store(charger_id=charger_id, values=list(facts.values))
            command_finish(
                command_id=event["command_id"], status=status, response=stored, error=error
            )

        await in_db(record)()
        if action in CONFIGURATION_ACTIONS and self.central is not None:
            self.central.configuration_changed()
        if event.get("reply_to"):
            await self.channel_layer.send(
                event["reply_to"], {"type": "command.done", "command_id": event["command_id"]}
            )

    # --- Message log ----------------------------------------------------------------------

    def log_frame(
        self,
        incoming: bool,
        raw: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        payload: JsonDict | None = None,
    ) -> None:
        """Queue a frame for the message log; secrets are masked in the few actions that
        carry them (the payload is given then)."""
        metrics.count_frame(incoming, message_type, action)
        if payload is not None and action in REDACTED_ACTIONS:
            masked = redact_payload(action, payload, response=message_type == CALLRESULT)
            if masked is not payload:
                raw = json.dumps(
                    [message_type, unique_id, action, masked]
                    if message_type == CALL
                    else [message_type, unique_id, masked]
                )
        self.log_rows.append(
            {
                "tenant_id": self.charger.tenant_id,
                "charger_id": self.charger.pk,
                "at": timezone.now(),
                "incoming": incoming,
                "message_type": message_type,
                "unique_id": (unique_id or "")[:64],
                "action": (action or "")[:50],
                "body": loggable(raw[:LOG_BODY_LIMIT]),
            }
        )

    def take_log(self) -> list[dict[str, Any]]:
        """Hand over the gathered log rows (on the event loop, so no row is lost)."""
        rows, self.log_rows = self.log_rows, []
        return rows

    async def flush_log(self) -> None:
        rows = self.take_log()
        if rows:
            await in_db(message_log_append)(rows)
