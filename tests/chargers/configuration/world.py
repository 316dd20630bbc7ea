"""Tenant A's configuration rows for the shared `world` fixtures (tests/conftest.py,
tests/cpms/test_pages.py): a template that applies to the charger, a spare one to delete, a
drift row and an apply run with its result. Called inside tenant A's scope."""

from django.utils import timezone

from chargers.configuration.models import ApplyResult, ApplyRun, Drift, ResultState
from chargers.configuration.services.templates import template_create


def configuration_world(charger):
    template = template_create(
        name="Fleet defaults A",
        protocol="1.6",
        entries=[{"key": "HeartbeatInterval", "value": "300"}],
    )
    spare = template_create(
        name="Spare A",
        protocol="2.0.1",
        entries=[{"component": "X", "variable": "Y", "value": "1"}],
    )
    drift = Drift.objects.create(
        charger=charger,
        setting="HeartbeatInterval",
        template=template,
        desired="300",
        actual="60",
        since=timezone.now(),
    )
    run = ApplyRun.objects.create(template=template)
    ApplyResult.objects.create(run=run, charger=charger, state=ResultState.ACCEPTED)
    return {
        "config_template": template,
        "spare_config_template": spare,
        "config_drift": drift,
        "config_apply_run": run,
    }
