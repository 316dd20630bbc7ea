"""`seed_demo` gives the demo tenant its configuration templates, once, and the demo's
simulated fleet shows a drifted charger: DEMO-0005 (1.6, at Riverside Offices) meters every
10 s where its site's template for the model asks for 30 s; DEMO-0001 holds what the model's
template asks."""

import asyncio
import io

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chargers.configuration.models import ConfigTemplate, Drift
from chargers.configuration.services.drift import drift_refresh
from chargers.models import Charger, Command, CommandStatus
from chargers.services.demo import DEMO_CHARGER_PASSWORD, TENANT_SLUG
from chargers.simulator import ChargerConfig, SimulatedCharger
from cpms.celery import app
from cpms.models import Tenant
from cpms.tenancy import scoping
from tests.aio import PATIENCE, eventually, in_a


def test_seed_demo_creates_the_demo_templates_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with scoping.scope(tenant):
        templates = {t.name: t.entries.count() for t in ConfigTemplate.objects.all()}
    assert templates == {
        "SimCharger AC22 (1.6)": 3,
        "SimCharger AC22 (2.0.1)": 3,
        "SimCharger AC22 at Riverside Offices (1.6)": 1,
    }


def demo_charger(server, identity):
    config = ChargerConfig(
        url=f"{server}/ocpp/{TENANT_SLUG}/",
        charger_id=identity,
        password=DEMO_CHARGER_PASSWORD,
        version="1.6",
        connectors=1,
        meter_interval=10.0,  # as `manage.py demo` runs them
        response_timeout=PATIENCE,
        open_timeout=PATIENCE,
        ping_interval=None,
        seed=1,
    )
    return SimulatedCharger.create(config)


@pytest.mark.django_db(transaction=True)
async def test_the_demo_shows_a_drifted_charger(ocpp_server_in_process):
    await sync_to_async(call_command)("seed_demo", stdout=io.StringIO())
    tenant = await sync_to_async(Tenant.objects.get)(slug=TENANT_SLUG)
    drifted, steady = (demo_charger(ocpp_server_in_process, i) for i in ("DEMO-0005", "DEMO-0001"))
    app.conf.task_always_eager = True
    tasks = [asyncio.create_task(c.run()) for c in (drifted, steady)]
    try:

        async def shown():
            rows = await in_a(
                tenant,
                lambda: list(
                    Drift.objects.filter(charger__identity="DEMO-0005").values_list(
                        "setting", "desired", "actual", "template__name"
                    )
                ),
            )
            return rows == [
                (
                    "MeterValueSampleInterval",
                    "30",
                    "10",
                    "SimCharger AC22 at Riverside Offices (1.6)",
                )
            ]

        await eventually(shown, what="DEMO-0005's drift")

        def read(identity):
            return Command.objects.filter(
                charger__identity=identity,
                action="GetConfiguration",
                status=CommandStatus.ANSWERED,
            ).exists()

        await eventually(lambda: in_a(tenant, lambda: read("DEMO-0001")), what="DEMO-0001's read")
    finally:
        for charger in (drifted, steady):
            await charger.stop(within=PATIENCE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        app.conf.task_always_eager = False

    def steady_drift():
        charger = Charger.objects.get(identity="DEMO-0001")
        return drift_refresh(charger_id=charger.pk)

    assert await in_a(tenant, steady_drift) == 0
