"""The firmware domain's Celery tasks: each fetches by id, in its tenant's scope, and calls one
service. The beat tick steps every campaign (the safety net under the event-driven steps) and
deletes diagnostics files past their retention."""

from celery import shared_task

from chargers.firmware.services import campaigns, diagnostics, orchestrator
from cpms.tenancy import scoping


@shared_task
def step_campaign(*, tenant_id: int, campaign_id: int) -> None:
    campaigns.step_begun(campaign_id=campaign_id)
    orchestrator.campaign_step(campaign_id=campaign_id)


@shared_task
def dispatch_update(*, tenant_id: int, target_id: int, attempt: int) -> None:
    orchestrator.target_dispatch(target_id=target_id, attempt=attempt)


@shared_task
def update_command_finished(*, tenant_id: int, command_id: int) -> None:
    orchestrator.target_command_finished(command_id=command_id)


@shared_task
def firmware_progress(
    *, tenant_id: int, charger_id: int, stage: str, status: str, request_id: int | None = None
) -> None:
    orchestrator.target_progress(
        charger_id=charger_id, stage=stage, status=status, request_id=request_id
    )


@shared_task
def charger_booted(*, tenant_id: int, charger_id: int, firmware_version: str) -> None:
    orchestrator.target_booted(charger_id=charger_id, firmware_version=firmware_version)


@shared_task
def dispatch_diagnostics(*, tenant_id: int, request_id: int) -> None:
    diagnostics.diagnostics_dispatch(request_id=request_id)


@shared_task
def diagnostics_command_finished(*, tenant_id: int, command_id: int) -> None:
    diagnostics.diagnostics_command_finished(command_id=command_id)


@shared_task
def upload_progress(
    *, tenant_id: int, charger_id: int, stage: str, status: str, request_id: int | None = None
) -> None:
    diagnostics.diagnostics_progress(
        charger_id=charger_id, stage=stage, status=status, request_id=request_id
    )


@shared_task(platform=True)
def tick() -> None:
    """Beat, every minute: step each tenant's campaigns (time out silent chargers, judge waves,
    start the next ones) through their own tasks."""
    for tenant in scoping.each_tenant():
        for campaign_id in orchestrator.campaigns_to_step():
            step_campaign.delay(tenant_id=tenant.pk, campaign_id=campaign_id)


@shared_task(platform=True)
def delete_expired_diagnostics() -> None:
    """Beat, hourly: diagnostics files past their retention are deleted."""
    for _tenant in scoping.each_tenant():
        diagnostics.diagnostics_delete_expired()
