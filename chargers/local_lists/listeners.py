"""The local lists' ear on the charger domain's events, after commit: a boot asks the charger
for its list's version (as a task, never in the boot's reply path), a command's outcome takes
a sync on, a blocked token syncs the tenant's lists at once. The beat tick is the safety net
for a task lost on the way."""

from __future__ import annotations

from chargers.events import ChargerBooted, CommandFinished, IdTokenBlocked
from chargers.local_lists.models import LocalListPolicy, PolicyMode
from chargers.local_lists.selectors import managing
from chargers.models import RegistrationStatus
from chargers.ocpp import readers
from cpms.handoff import queue_task
from cpms.tenancy import scoping

# The commands a sync sends, by action: its own, and the reads of its probe.
SYNC_ACTIONS = (*readers.LOCAL_LIST_ACTIONS, readers.READ_KEYS, readers.READ_VARIABLES)


def _manages(tenant_id: int) -> bool:
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != tenant_id:
        return True  # asked only in the event's own scope; elsewhere the task decides
    return managing.get(tenant_id, LocalListPolicy.objects.exclude(mode=PolicyMode.OFF).exists)


def on_boot(event: ChargerBooted) -> None:
    # A charger not (yet) accepted is sent no list: the CSMS does not act as if it were.
    if event.status != RegistrationStatus.ACCEPTED:
        return
    if event.tenant_id is None or not _manages(event.tenant_id):
        return
    from chargers.local_lists.tasks import charger_booted

    queue_task(charger_booted, tenant_id=event.tenant_id, charger_id=event.charger_id)


def on_command_finished(event: CommandFinished) -> None:
    if event.tenant_id is None or event.action not in SYNC_ACTIONS:
        return
    if not _manages(event.tenant_id):
        return
    from chargers.local_lists.tasks import command_finished

    queue_task(command_finished, tenant_id=event.tenant_id, command_id=event.command_id)


def on_token_blocked(event: IdTokenBlocked) -> None:
    if event.tenant_id is None or not _manages(event.tenant_id):
        return
    from chargers.local_lists.tasks import sync_due

    queue_task(sync_due, tenant_id=event.tenant_id)
