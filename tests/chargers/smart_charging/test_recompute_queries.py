"""What a recompute costs the database: no more queries for a site of thirty chargers than for
one of three, whether it sends every limit or nothing. A query per connector that creeps back
in makes the big site's count grow."""

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    Connector,
    SessionState,
)
from chargers.services.commands import command_finish
from chargers.smart_charging import services
from chargers.smart_charging.models import LoadPlan
from cpms.models import Site
from cpms.tenancy import scoping

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("inline_handoff", "empty_cache"),
]

# What an unchanged recompute may take: the lock, the site's rows, the plan's row.
MOST_UNCHANGED = 20


def managed_site(name: str, chargers: int, first_transaction: int) -> Site:
    """A site with room for everyone, each charger charging a session (one with needs)."""
    layer = get_channel_layer()
    now = timezone.now()
    site = Site.objects.create(name=name, timezone="Europe/Berlin")
    services.site_electrical_set(site=site, grid_limit_a=Decimal(chargers * 32))
    circuit = services.circuit_create(site=site, name="Board", limit_a=Decimal(chargers * 32))
    for n in range(chargers):
        charger = Charger.objects.create(
            identity=f"{name}-{n}",
            site=site,
            ocpp_version="1.6" if n % 2 else "2.0.1",
            is_online=True,
            channel_name=async_to_sync(layer.new_channel)(),
        )
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1)
        services.charger_electrical_set(
            charger=charger, circuit=circuit, max_current_a=Decimal("32")
        )
        session = ChargingSession.objects.create(
            charger=charger,
            site=site,
            evse_id=1,
            connector_id=1,
            transaction_id=str(first_transaction + n),
            started_at=now,
            state=SessionState.ACTIVE,
            power_w=Decimal("11000"),
        )
        if n == 0:
            services.session_needs_set(
                session=session,
                priority=1,
                departure_at=now + timezone.timedelta(hours=4),
                energy_needed_wh=20_000,
            )
    return site


def answer_all() -> None:
    for pk in Command.objects.filter(status=CommandStatus.SENT).values_list("pk", flat=True):
        command_finish(
            command_id=pk, status=CommandStatus.ANSWERED, response={"status": "Accepted"}
        )


def queries(site: Site) -> tuple[int, int]:
    """The queries of the site's first recompute (every limit sent) and of one with nothing
    changed (once the answers are read)."""
    with CaptureQueriesContext(connection) as first:
        plan, outgoing = services.plan_compute(site=site, trigger="test")
    services.profiles_send(outgoing)
    answer_all()
    services.site_recompute(site_id=site.pk, trigger="test")
    with CaptureQueriesContext(connection) as unchanged:
        again, outgoing = services.plan_compute(site=site, trigger="test")
    assert plan is not None and again is not None
    assert outgoing == [] and again.same_as_id is not None
    return len(first), len(unchanged)


def test_a_recompute_takes_as_many_queries_for_thirty_chargers_as_for_three(tenant_a):
    with scoping.scope(tenant_a):
        small = queries(managed_site("Small", 3, first_transaction=100))
        big = queries(managed_site("Big", 30, first_transaction=200))
        assert LoadPlan.objects.filter(site__name="Big").count() == 3
    # The small site's first run also read what is then cached per tenant (its webhooks).
    assert big[0] <= small[0] and big[1] <= small[1] <= MOST_UNCHANGED
