"""The certificates domain's ear on the charger domain's events, after commit."""

from __future__ import annotations

from chargers.events import CommandFinished
from chargers.ocpp import readers
from cpms.handoff import queue_task


def on_command_finished(event: CommandFinished) -> None:
    if event.tenant_id is None or event.action not in readers.CERTIFICATE_ACTIONS:
        return
    from chargers.certificates.tasks import command_finished

    queue_task(command_finished, tenant_id=event.tenant_id, command_id=event.command_id)
