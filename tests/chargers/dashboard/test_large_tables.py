"""Tables that stay fast for a large network: deep pages read ids first, the sessions count is
exact up to a threshold and "more than" it beyond, and uptime costs the same queries for any
site."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chargers.models import Charger, ChargingSession, Connector
from chargers.selectors.fleet import TableQuery, charger_table
from cpms.models import Site
from cpms.paging import DeferredPaginator, LargeTablePaginator
from cpms.tenancy import scoping
from tests.chargers.factories import status_event


def make_sessions(tenant, site, count, identity="CP-MANY"):
    with scoping.scope(tenant):
        charger = Charger.objects.create(identity=identity, site=site)
        now = datetime.now(UTC)
        ChargingSession.objects.bulk_create(
            ChargingSession(
                charger=charger,
                site=site,
                evse_id=1,
                connector_id=1,
                transaction_id=str(n),
                state="completed",
                started_at=now - timedelta(hours=n),
                stopped_at=now - timedelta(hours=n) + timedelta(minutes=30),
                energy_wh=Decimal(1000),
            )
            for n in range(1, count + 1)
        )
    return charger


@pytest.fixture
def other_tenants_sessions(tenant_b):
    """Tenant B's sessions, more than tenant A's: none of them may count on A's pages."""
    with scoping.scope(tenant_b):
        site_b = Site.objects.create(name="Mall B")
    return make_sessions(tenant_b, site_b, 300, identity="CP-B")


def sessions_page(client, **params):
    return client.get(reverse("session_list", kwargs={"tenant_slug": "tenant-a"}), params)


@pytest.fixture
def bob_lists(client, tenant_a, site_a, bob, monkeypatch):
    """The sessions page as bob sees it over `rows` sessions of tenant A, their count exact up
    to `exact_up_to` rows (the paginator's own threshold unless given)."""

    def listed(rows, exact_up_to=None, **params):
        make_sessions(tenant_a, site_a, rows)
        if exact_up_to is not None:
            monkeypatch.setattr(LargeTablePaginator, "exact_up_to", exact_up_to)
        client.force_login(bob)
        return sessions_page(client, **params)

    return listed


def test_a_deep_page_lists_the_same_sessions_as_a_plain_offset(tenant_a, site_a, monkeypatch):
    make_sessions(tenant_a, site_a, 30)
    monkeypatch.setattr(DeferredPaginator, "deferred_from", 0)

    with scoping.scope(tenant_a):
        sessions = ChargingSession.objects.select_related("charger")
        plain, deferred = Paginator(sessions, 7), DeferredPaginator(sessions, 7)
        pages = [
            ([s.pk for s in plain.page(n)], [s.pk for s in deferred.page(n)])
            for n in plain.page_range
        ]

    assert len(pages) == 5
    for expected, got in pages:
        assert got == expected


def test_a_deep_page_of_chargers_sorted_by_state_matches_a_plain_offset(
    tenant_a, site_a, monkeypatch
):
    with scoping.scope(tenant_a):
        for n in range(12):
            charger = Charger.objects.create(
                identity=f"CP-{n:02d}", site=site_a, is_online=n % 3 > 0
            )
            status = ["Charging", "Faulted", "Available", "Unavailable"][n % 4]
            Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status=status)
    monkeypatch.setattr(DeferredPaginator, "deferred_from", 0)

    with scoping.scope(tenant_a):
        table = charger_table(TableQuery(sort="-state"))
        plain, deferred = Paginator(table, 5), DeferredPaginator(table, 5)
        pages = [
            ([(c.pk, c.state) for c in plain.page(n)], [(c.pk, c.state) for c in deferred.page(n)])
            for n in plain.page_range
        ]

    assert len(pages) == 3
    for expected, got in pages:
        assert got == expected


def test_past_the_exact_count_the_sessions_list_says_more_than_and_offers_the_next_page(
    bob_lists,
):
    response = bob_lists(120, exact_up_to=100)

    assert response.context["page"].paginator.open_ended
    assert b"Page 1, more than 100 rows" in response.content
    assert b"page=2" in response.content


def test_an_exact_count_below_the_threshold_shows_the_number_of_pages(bob_lists):
    response = bob_lists(120, page="2")

    assert not response.context["page"].paginator.open_ended
    assert b"Page 2 of 3" in response.content


def test_a_deep_page_knows_it_is_the_last_by_the_row_after_it_not_by_other_tenants_rows(
    other_tenants_sessions, bob_lists
):
    response = bob_lists(120, exact_up_to=100, page="3")

    page = response.context["page"]
    assert len(page.object_list) == 20 and not page.has_next()
    assert b"Page 3, more than 100 rows" in response.content
    assert b"page=2" in response.content and b"page=4" not in response.content


def test_a_page_past_the_end_shows_the_last_page_with_rows(other_tenants_sessions, bob_lists):
    response = bob_lists(30, exact_up_to=10, page="15")

    page = response.context["page"]
    assert page.number == 1 and len(page.object_list) == 30
    assert not page.paginator.open_ended and page.paginator.count == 30


def test_the_sessions_pager_never_asks_postgresql_for_an_estimate(
    client, tenant_a, site_a, bob, monkeypatch
):
    from django.db.models import QuerySet

    make_sessions(tenant_a, site_a, 30)
    monkeypatch.setattr(LargeTablePaginator, "exact_up_to", 10)

    def refuse(*args, **kwargs):
        raise AssertionError("the planner's estimate covers other tenants' rows")

    monkeypatch.setattr(QuerySet, "explain", refuse)
    client.force_login(bob)

    for number in ("1", "2", "9"):
        assert sessions_page(client, page=number).status_code == 200


def uptime_page(client, site, days="7"):
    return client.get(
        reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": site.pk}), {"days": days}
    )


def test_uptime_starts_from_the_status_in_force_before_the_period(client, tenant_a, site_a, paula):
    now = datetime.now(UTC)
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-UP", site=site_a)
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Available")
        for days_ago, status in [(10, "Faulted"), (3.5, "Available")]:
            at = now - timedelta(days=days_ago)
            status_event(charger, status, at).save()
    client.force_login(paula)

    (row,) = uptime_page(client, site_a).context["uptimes"]

    # Faulted from before the period's start until 3.5 of its 7 days had passed.
    assert row["percent"] == pytest.approx(50.0, abs=0.1)


def test_the_portal_site_costs_the_same_queries_for_more_connectors(
    client, tenant_a, site_a, paula
):
    def queries_for(count):
        now = datetime.now(UTC)
        with scoping.scope(tenant_a):
            for i in range(count):
                charger = Charger.objects.create(identity=f"Q-{count}-{i}", site=site_a)
                Connector.objects.create(charger=charger, evse_id=1, connector_id=1)
                status_event(charger, at=now - timedelta(days=1), received_at=now).save()
        with CaptureQueriesContext(connection) as captured:
            assert uptime_page(client, site_a).status_code == 200
        return len(captured)

    client.force_login(paula)
    assert queries_for(1) == queries_for(6)
