"""The beat job that closes sessions left open: the stop webhook as any stop has it, and one
query to find a tenant's candidates however large its fleet."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargers import tasks
from chargers.models import Charger, ChargingSession
from cpms.models import WebhookDelivery, WebhookEndpoint
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


def open_sessions(tenant, count, hours_ago):
    with scoping.scope(tenant):
        for number in range(count):
            charger = Charger.objects.create(identity=f"CP-{number}")
            ChargingSession.objects.create(
                charger=charger,
                evse_id=1,
                connector_id=1,
                transaction_id=str(number),
                started_at=timezone.now() - timedelta(hours=hours_ago),
                meter_start_wh=0,
                meter_last_wh=1000,
            )
        at = timezone.now() - timedelta(hours=hours_ago)
        ChargingSession.objects.update(updated_at=at)


def test_a_closed_session_is_announced_as_stopped(tenant_a, django_capture_on_commit_callbacks):
    with scoping.scope(tenant_a):
        WebhookEndpoint.objects.create(
            url="https://hooks.a.test/cpms", event_types=["session.stopped"], secret="whsec_a"
        )
    open_sessions(tenant_a, 1, hours_ago=72)
    with django_capture_on_commit_callbacks(execute=False):
        assert tasks.close_stale_sessions() == 1
    with scoping.scope(tenant_a):
        [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "session.stopped"
    assert delivery.payload["data"]["state"] == "completed"


@pytest.mark.parametrize("size", [3, 30])
def test_finding_nothing_to_close_costs_the_same_for_any_fleet(
    tenant_a, django_assert_max_num_queries, size
):
    open_sessions(tenant_a, size, hours_ago=1)
    # The tenants, then one query for the tenant's stale sessions (and its savepoint).
    with django_assert_max_num_queries(4):
        assert tasks.close_stale_sessions() == 0
