"""Writes of the command record: created before anything is sent, marked sent by the consumer
holding the charger's socket, finished once with its outcome, and timed out by a periodic sweep
once nobody waits for it any more. The path that routes a command to its charger and waits for
the outcome is `chargers.commands`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from chargers.events import CommandFinished
from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp.redact import redact_payload
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.models import User

DEFAULT_TIMEOUT = 30.0
UNFINISHED = (CommandStatus.QUEUED, CommandStatus.SENT)
# Past its sender's own deadline by this much, nobody is waiting for a command any more.
STALE_MARGIN = timedelta(minutes=1)
STALE_ERROR = "No answer from the charger's connection, and nobody was left waiting for one."


def patience(timeout: float) -> float:
    """Seconds a sender waits for the outcome of a command with this `timeout`: the consumer
    answers within `timeout` of sending; the rest allows for a queue in front of it."""
    return timeout * 2 + 5


def deadline(created_at: datetime, timeout: float) -> datetime:
    """When the sender of a command created at `created_at` stops waiting for it."""
    return created_at + timedelta(seconds=patience(timeout))


def command_create(
    *,
    charger: Charger,
    action: str,
    payload: dict[str, Any],
    requested_by: User | None = None,
    source: str = "system",
    timeout: float = DEFAULT_TIMEOUT,
) -> Command:
    with transaction.atomic():
        command = Command.objects.create(
            tenant_id=charger.tenant_id,
            charger=charger,
            action=action,
            payload=redact_payload(action, payload),
            requested_by=requested_by,
            source=source,
            timeout=timeout,
        )
        # Every command a person or a key sends, with its payload as recorded (redacted).
        audit.record(
            action=Verb.SEND,
            object_type=ObjectType.COMMAND,
            target=command,
            label=f"{action} {charger.identity}",
            changes=audit.new_values(
                {"action": action, "charger": charger.identity, "payload": command.payload}
            ),
        )
    return command


# The two writes below run in the consumer, inside its socket's tenant scope.


def command_mark_sent(*, command_id: int) -> None:
    Command.objects.filter(pk=command_id, status=CommandStatus.QUEUED).update(
        status=CommandStatus.SENT, sent_at=timezone.now()
    )


@transaction.atomic
def command_finish(*, command_id: int, status: str, response: Any = None, error: str = "") -> bool:
    """Record the outcome once; a late outcome never overwrites an earlier one. Returns
    whether this call recorded it. The call that records it publishes `command.finished`:
    who sent what to which charger and how it ended, never the reply, which may carry
    configuration values (readers with the right to see it fetch the row)."""
    recorded = Command.objects.filter(pk=command_id, status__in=UNFINISHED).update(
        status=status, response=response, error=error[:255], completed_at=timezone.now()
    )
    if recorded:
        tenant_id, charger_id, action = (
            Command.objects.filter(pk=command_id)
            .values_list("tenant_id", "charger_id", "action")
            .get()
        )
        publish(
            CommandFinished(
                tenant_id=tenant_id,
                command_id=command_id,
                charger_id=charger_id,
                action=action,
                status=status,
            )
        )
    return bool(recorded)


def commands_time_out_stale(*, now: datetime | None = None) -> int:
    """Record a timeout for every command still unfinished well past its sender's deadline;
    returns how many. Platform work: it runs unscoped, across tenants, row by row through
    `command_finish`, so a command answered meanwhile keeps its answer."""
    now = now or timezone.now()
    # No command's deadline comes sooner than a zero timeout's; the rest is sorted out below.
    candidates = Command.objects.filter(
        status__in=UNFINISHED, created_at__lt=now - STALE_MARGIN - timedelta(seconds=patience(0))
    ).values_list("pk", "created_at", "timeout")
    stale = 0
    for command_id, created_at, timeout in candidates.iterator():
        if deadline(created_at, timeout) + STALE_MARGIN < now:
            stale += command_finish(
                command_id=command_id, status=CommandStatus.TIMEOUT, error=STALE_ERROR
            )
    return stale
