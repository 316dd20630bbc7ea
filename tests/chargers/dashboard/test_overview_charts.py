"""The overview's charts: energy and sessions per day, utilisation per site, availability per day,
each over the last 30 days, and what the page says when there is nothing to draw."""

import json
import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.models import Charger, ChargingSession, Connector, SessionState
from chargers.selectors.energy import (
    daily_energy_and_sessions,
    local_midnight,
    utilisation_per_site,
)
from chargers.selectors.uptime import availability_per_day
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.factories import status_event

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-1", site=site_a)
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Available")
        Connector.objects.create(charger=charger, evse_id=2, connector_id=1, status="Available")
        return charger


def session(charger, started, hours=1, wh=10000):
    return ChargingSession.objects.create(
        charger=charger,
        site=charger.site,
        evse_id=1,
        connector_id=1,
        transaction_id=str(started.timestamp()),
        started_at=started,
        stopped_at=started + timedelta(hours=hours),
        energy_wh=Decimal(wh),
        state=SessionState.COMPLETED,
    )


def test_every_one_of_the_30_days_has_a_bar_even_without_sessions(tenant_a, charger):
    today = local_midnight(BERLIN)
    with scoping.scope(tenant_a):
        session(charger, today + timedelta(hours=8), wh=12000)
        session(charger, today + timedelta(hours=10), wh=3000)
        session(charger, today - timedelta(days=2, hours=-9), wh=5000)
        session(charger, today - timedelta(days=40), wh=99000)  # too old to show
        daily = daily_energy_and_sessions(ChargingSession.objects.all(), BERLIN)
    assert len(daily["labels"]) == len(daily["energy_kwh"]) == len(daily["sessions"]) == 30
    assert daily["labels"][-1] == today.strftime("%d %b")
    assert daily["energy_kwh"][-1] == 15.0 and daily["sessions"][-1] == 2
    assert daily["energy_kwh"][-3] == 5.0 and daily["sessions"][-3] == 1
    assert sum(daily["sessions"]) == 3


def test_utilisation_per_site_is_the_share_of_its_connectors_time_in_sessions(
    tenant_a, site_a, charger
):
    now = timezone.now()
    with scoping.scope(tenant_a):
        empty = Site.objects.create(name="Depot")
        # 24 hours of sessions over 2 connectors and 10 days: 5 %.
        for day in range(1, 5):
            session(charger, now - timedelta(days=day), hours=6)
        chart = utilisation_per_site(
            ChargingSession.objects.all(),
            {site_a.pk: ("Mall A", 2), empty.pk: ("Depot", 4)},
            BERLIN,
            days=10,
        )
    shares = dict(zip(chart["labels"], chart["percent"], strict=True))
    assert shares["Depot"] == 0.0
    # The span runs from ten local midnights ago to now: a little over 9 days.
    assert 5.0 <= shares["Mall A"] <= 5.6


def test_availability_is_the_share_of_connector_time_not_faulted_or_unavailable(tenant_a, charger):
    start = local_midnight(BERLIN) - timedelta(days=2)
    days = [(start + timedelta(days=n), start + timedelta(days=n + 1)) for n in range(2)]
    with scoping.scope(tenant_a):
        for evse, status, at in [
            (1, "Available", start - timedelta(days=1)),
            (2, "Available", start - timedelta(days=1)),
            # Connector 1 faulted for the second half of day one, back at the start of day two.
            (1, "Faulted", start + timedelta(hours=12)),
            (1, "Available", start + timedelta(days=1)),
            # Connector 2 taken out of service for all of day two.
            (2, "Unavailable", start + timedelta(days=1)),
        ]:
            status_event(charger, status, at, evse_id=evse).save()
        percent = availability_per_day(Charger.objects.all(), days)
    assert percent == [75.0, 50.0]


def test_availability_knows_nothing_of_connectors_that_never_reported(tenant_a, charger):
    start = local_midnight(BERLIN) - timedelta(days=1)
    with scoping.scope(tenant_a):
        assert availability_per_day(Charger.objects.all(), [(start, timezone.now())]) == [None]


def test_the_overview_draws_the_three_charts(client, tenant_a, charger, bob):
    with scoping.scope(tenant_a):
        session(charger, timezone.now() - timedelta(hours=3))
        now = timezone.now()
        status_event(charger, at=now - timedelta(days=40), received_at=now).save()
    client.force_login(bob)
    body = client.get(reverse("tenant_overview", kwargs={"tenant_slug": "tenant-a"})).content
    html = body.decode()
    for chart in ("chart-daily", "chart-availability", "chart-sites"):
        assert f'data-chart="{chart}"' in html
    sites = json.loads(html.split('id="chart-sites" type="application/json">')[1].split("<")[0])
    assert sites["labels"] == ["Mall A"]


def test_an_empty_network_gets_words_instead_of_empty_charts(client, tenant_a, bob):
    client.force_login(bob)
    html = client.get(reverse("tenant_overview", kwargs={"tenant_slug": "tenant-a"})).content
    html = html.decode()
    assert "data-chart=" not in html
    assert "No sessions in the last 30 days" in html
    assert "No connector has reported a status yet" in html
