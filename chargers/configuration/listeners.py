"""The configuration domain's ear on the charger domain's events, after commit: a boot, a
configuration command's outcome, a device-model report. Each queues a task only when the
tenant has templates (asked once per tenant and period: a reconnect storm boots thousands)."""

from __future__ import annotations

from chargers.configuration.memo import has_templates
from chargers.configuration.models import ConfigTemplate
from chargers.events import ChargerBooted, CommandFinished, DeviceModelReported
from chargers.models import RegistrationStatus
from chargers.ocpp import readers
from cpms.handoff import queue_task
from cpms.tenancy import scoping


def _concerned(tenant_id: int | None) -> bool:
    """Whether the tenant has templates; outside its scope the task decides."""
    if tenant_id is None:
        return False
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != tenant_id:
        return True
    return has_templates.get(tenant_id, ConfigTemplate.objects.exists)


def on_boot(event: ChargerBooted) -> None:
    if event.status != RegistrationStatus.ACCEPTED or not _concerned(event.tenant_id):
        return
    from chargers.configuration.tasks import charger_booted

    queue_task(charger_booted, tenant_id=event.tenant_id, charger_id=event.charger_id)


def on_command_finished(event: CommandFinished) -> None:
    if event.action not in readers.CONFIGURATION_ACTIONS or not _concerned(event.tenant_id):
        return
    from chargers.configuration.tasks import command_finished

    queue_task(
        command_finished,
        tenant_id=event.tenant_id,
        command_id=event.command_id,
        charger_id=event.charger_id,
    )


def on_device_model_reported(event: DeviceModelReported) -> None:
    if not _concerned(event.tenant_id):
        return
    from chargers.configuration.tasks import refresh_drift

    queue_task(refresh_drift, tenant_id=event.tenant_id, charger_ids=[event.charger_id])
