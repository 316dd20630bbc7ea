"""End to end: an operator resets a real 1.6 charger through the running server; the charger
restarts (a new socket, a boot) and reports ResetOrReboot. That restart was asked for and opens
no alert; the same report from a charger nobody reset opens a critical one."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from ocpp.v16 import call

from chargers.alerts.models import Alert, AlertKind
from chargers.alerts.tasks import evaluate_event
from chargers.commands import asend_command
from chargers.events import ChargerEventRecorded
from chargers.models import ChargerEvent, CommandStatus, ConnectionEvent
from chargers.ocpp import builders
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.ocpp.clients import connected

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def evaluate_the_reported_event(tenant):
    """What the alerts' listener queues for the worker, run here: the server runs no worker."""
    with scoping.scope(tenant):
        event = ChargerEvent.objects.get(summary="ResetOrReboot")
        message = ChargerEventRecorded.of(event)
        evaluate_event(tenant_id=tenant.pk, name=message.name, data=message.data())
        return list(Alert.objects.filter(kind=AlertKind.SECURITY_EVENT))


async def recorded_gone(tenant, charger):
    """Until the server has recorded the first socket closed, as it has long done when a real
    charger comes back from a reboot (returns as soon as it is)."""

    @sync_to_async
    def gone():
        with scoping.scope(tenant):
            return not ConnectionEvent.objects.filter(
                charger=charger, disconnected_at__isnull=True
            ).exists()

    await eventually(gone, what="the server recorded the socket closed")


async def restart_and_report(server, identity):
    """What a charger does after a reset: it comes back on a new socket, boots and reports."""
    async with connected(server, "tenant-a", identity) as cp:
        await cp.boot()
        await cp.call(
            call.SecurityEventNotification(
                type="ResetOrReboot", timestamp=timezone.now().isoformat(), tech_info=None
            )
        )


@pytest.fixture
def charger(make_charger, tenant_a):
    return make_charger(tenant_a, identity="CP-RESET")


async def test_an_operators_reset_and_the_restart_it_causes_open_no_alert(
    command_server, tenant_a, charger, olga
):
    reset = builders.reset(charger)
    async with connected(command_server, "tenant-a", "CP-RESET") as cp:
        await cp.boot()
        command = await asend_command(
            charger, reset.action, reset.payload, requested_by=olga, source="test", timeout=10
        )
    assert command.status == CommandStatus.ANSWERED and command.reply_status == "Accepted"
    await recorded_gone(tenant_a, charger)
    await restart_and_report(command_server, "CP-RESET")

    assert await evaluate_the_reported_event(tenant_a) == []


async def test_a_restart_nobody_asked_for_opens_a_critical_alert(command_server, tenant_a, charger):
    async with connected(command_server, "tenant-a", "CP-RESET") as cp:
        await cp.boot()
    await recorded_gone(tenant_a, charger)
    await restart_and_report(command_server, "CP-RESET")

    (alert,) = await evaluate_the_reported_event(tenant_a)
    assert alert.severity == "critical" and "ResetOrReboot" in alert.title
