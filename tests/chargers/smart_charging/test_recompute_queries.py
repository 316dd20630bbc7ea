"""What a recompute costs the database: no more queries for a site of thirty chargers than for
one of three, whether it sends every limit or nothing. A query per connector that creeps back
in makes the big site's count grow."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chargers.smart_charging import services
from chargers.smart_charging.models import LoadPlan
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.smart_charging.helpers import answer_all, charging_chargers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("inline_handoff", "empty_cache"),
]

# What an unchanged recompute may take: the lock, the site's rows, the plan's row.
MOST_UNCHANGED = 20


def managed_site(name: str, chargers: int, first_transaction: int) -> Site:
    """A site with room for everyone, each charger charging a session (one with needs)."""
    site = Site.objects.create(name=name, timezone="Europe/Berlin")
    services.site_electrical_set(site=site, grid_limit_a=Decimal(chargers * 32))
    circuit = services.circuit_create(site=site, name="Board", limit_a=Decimal(chargers * 32))
    made, sessions = charging_chargers(
        site, [f"{name}-{n}" for n in range(chargers)], first_transaction=first_transaction
    )
    for charger in made:
        services.charger_electrical_set(
            charger=charger, circuit=circuit, max_current_a=Decimal("32")
        )
    services.session_needs_set(
        session=sessions[0],
        priority=1,
        departure_at=timezone.now() + timezone.timedelta(hours=4),
        energy_needed_wh=20_000,
    )
    return site


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
