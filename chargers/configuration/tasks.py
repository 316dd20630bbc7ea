"""The configuration domain's Celery tasks: each fetches by id, in its tenant's scope, and
calls the services."""

from celery import shared_task

from chargers.configuration.services import apply, drift


@shared_task
def refresh_drift(*, tenant_id: int, charger_ids: list[int]) -> None:
    for charger_id in charger_ids:
        drift.drift_refresh(charger_id=charger_id)


@shared_task
def template_changed(*, tenant_id: int, charger_ids: list[int]) -> None:
    # A charger the template is new to may never have been asked for the values it names.
    for charger_id in charger_ids:
        drift.drift_refresh_or_read(charger_id=charger_id)


@shared_task
def charger_booted(*, tenant_id: int, charger_id: int) -> None:
    # A restart ends "takes effect after a restart"; the read brings the values it came with.
    drift.drift_refresh(charger_id=charger_id)
    drift.configuration_read(charger_id=charger_id)


@shared_task
def command_finished(*, tenant_id: int, command_id: int, charger_id: int) -> None:
    # One of a run's commands refreshes the drift when its charger's result is settled; any
    # other configuration command (an operator's read or change) refreshes it now.
    if not apply.apply_command_finished(command_id=command_id):
        drift.drift_refresh(charger_id=charger_id)


@shared_task
def dispatch_run(*, tenant_id: int, run_id: int) -> None:
    apply.apply_run_dispatch(run_id=run_id)
