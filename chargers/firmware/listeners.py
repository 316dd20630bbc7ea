"""The firmware domain's ear on the charger domain's events, after commit: a boot, a firmware or
upload status, the outcome of a command. Each queues a task only when a campaign's charger or
a diagnostics request may be concerned; the beat tick is the safety net for a lost one."""

from __future__ import annotations

from chargers.events import (
    ChargerBooted,
    CommandFinished,
    OperationStatusReported,
    SessionStopped,
)
from chargers.firmware.models import IN_FLIGHT, CampaignTarget, DiagnosticsRequest, TargetState
from chargers.ocpp import readers
from cpms.handoff import queue_call, queue_task
from cpms.memo import TenantFacts
from cpms.tenancy import scoping

# Whether the tenant has an update at any charger, remembered for a while so that a storm of
# boots asks once per tenant rather than once per boot. An update is answered through the
# socket of the charger it went to, in this process, and that answer forgets the tenant here
# at once; a boot missed elsewhere meanwhile is settled by the tick from the charger's row.
updating_anywhere = TenantFacts(ttl=30.0)
# Whether the tenant has a charger waiting for its session to end to take an update; a
# deferral begun meanwhile in a worker is seen when this expires (the tick steps it anyway).
deferring_anywhere = TenantFacts(ttl=30.0)


def _in_scope(tenant_id: int) -> bool:
    tenant = scoping.current_tenant()
    return tenant is not None and tenant.pk == tenant_id


def _updating(tenant_id: int, charger_id: int) -> bool:
    """Whether the charger has an update under way; asked only in the event's own scope
    (elsewhere the task decides)."""
    if not _in_scope(tenant_id):
        return True
    in_flight = CampaignTarget.objects.filter(state__in=IN_FLIGHT)
    if not updating_anywhere.get(tenant_id, in_flight.exists):
        return False
    return in_flight.filter(charger_id=charger_id).exists()


def on_boot(event: ChargerBooted) -> None:
    if event.tenant_id is None or not _updating(event.tenant_id, event.charger_id):
        return
    from chargers.firmware.tasks import charger_booted

    _queue(
        charger_booted,
        tenant_id=event.tenant_id,
        charger_id=event.charger_id,
        firmware_version=event.firmware_version,
    )


def on_status(event: OperationStatusReported) -> None:
    if event.tenant_id is None:
        return
    from chargers.firmware.tasks import firmware_progress, upload_progress

    if event.operation == "firmware":
        if not _updating(event.tenant_id, event.charger_id):
            return
        task = firmware_progress
    else:
        task = upload_progress
    _queue(
        task,
        tenant_id=event.tenant_id,
        charger_id=event.charger_id,
        stage=event.stage,
        status=event.status,
        request_id=event.request_id,
    )


def on_session_stopped(event: SessionStopped) -> None:
    """A charger deferred for its session may take its update now rather than at the next
    tick (on a busy charger the moment it is free may not last till then)."""
    if event.tenant_id is None or not _in_scope(event.tenant_id):
        return
    deferred = CampaignTarget.objects.filter(state=TargetState.DEFERRED)
    if not deferring_anywhere.get(event.tenant_id, deferred.exists):
        return
    campaign_id = (
        deferred.filter(charger_id=event.charger_id).values_list("campaign_id", flat=True).first()
    )
    if campaign_id is not None:
        from chargers.firmware.services.campaigns import queue_step

        # Through the sender thread: the coalescing mark is a cache round trip.
        queue_call(queue_step, event.tenant_id, campaign_id)


def on_command_finished(event: CommandFinished) -> None:
    if event.tenant_id is None:
        return
    from chargers.firmware.tasks import diagnostics_command_finished, update_command_finished

    if event.action in readers.FIRMWARE_UPDATES:
        updating_anywhere.forget(event.tenant_id)
        _queue(update_command_finished, tenant_id=event.tenant_id, command_id=event.command_id)
    elif event.action in readers.LOG_UPLOADS:
        if _in_scope(event.tenant_id) and not (
            DiagnosticsRequest.objects.filter(command_id=event.command_id).exists()
        ):
            return  # an operator's own GetDiagnostics, not one of our requests
        _queue(diagnostics_command_finished, tenant_id=event.tenant_id, command_id=event.command_id)


def _queue(task, **kwargs) -> None:
    # Handed off: the notification is answered on this thread, which a stalled broker must not
    # hold up (the beat tick is the safety net for a dropped task).
    queue_task(task, **kwargs)
