"""In a real browser: a site's load per phase over time, and a what-if with two more EVs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chargers.models import MeterSample
from chargers.smart_charging import services
from cpms.tenancy import scoping
from tests.browser.threads import off_the_loop
from tests.chargers.factories import make_fleet, meter_sample

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = "[data-load-chart] canvas[data-phase]"


@pytest.fixture
def charging_site(tenant_a, site_a):
    """Mall A on a 32 A grid connection, one EV charging with its currents per phase read
    every five minutes, and the plans of the last half hour."""
    off_the_loop(lambda: make_charging_site(tenant_a, site_a))
    return site_a


def make_charging_site(tenant_a, site_a) -> None:
    now = timezone.now()
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal("32"))
        fleet = make_fleet(site_a, identity="CP-LOAD")
        MeterSample.objects.bulk_create(
            meter_sample(fleet["charger"], now - timedelta(minutes=minutes), amperes,
                         "Current.Import", session=fleet["session"], phase=phase, unit="A")
            for minutes in range(0, 20, 5)
            for phase, amperes in (("L1", 15.9), ("L2", 16.0), ("L3", 15.8))
        )  # fmt: skip
        services.plan_compute(site=site_a, trigger="test", now=now - timedelta(minutes=30))
        services.plan_compute(site=site_a, trigger="test", now=now)


def test_an_operator_sees_the_load_per_phase_and_plans_two_more_evs(
    charging_site, olga, server_url, log_in
):
    page = log_in(olga, f"/t/tenant-a/sites/{charging_site.pk}/load/")
    charts = page.locator(CHARTS)
    expect(charts).to_have_count(3)
    # charts.js has drawn each chart once it has hung the Chart on its canvas.
    page.wait_for_function(f"() => [...document.querySelectorAll('{CHARTS}')].every(c => c.chart)")
    drawn = page.evaluate(
        f"""() => [...document.querySelectorAll('{CHARTS}')].map(c => ({{
            phase: c.dataset.phase,
            series: c.chart.data.datasets.map(d => d.label),
            measured: Math.max(...c.chart.data.datasets[0].data),
            limit: c.chart.data.datasets[2].data.at(-1),
        }}))"""
    )
    assert [chart["phase"] for chart in drawn] == ["L1", "L2", "L3"]
    assert all(chart["series"] == ["Measured", "Planned", "Limit"] for chart in drawn)
    assert [chart["measured"] for chart in drawn] == [15.9, 16.0, 15.8]
    assert all(chart["limit"] == 32 for chart in drawn)

    page.get_by_role("link", name="What if…").click()
    expect(page.get_by_role("heading", name="What if")).to_be_visible()
    places = page.get_by_label("Where")
    places.nth(0).select_option(label="A new charger on grid connection")
    page.get_by_label("Maximum (A)").nth(0).fill("16")
    places.nth(1).select_option(label="A new charger on grid connection")
    page.get_by_label("Phases").nth(1).select_option(label="L2 only")
    page.get_by_role("button", name="Plan these EVs").click()

    results = page.locator("[data-what-if-evs] tbody tr")
    expect(results).to_have_count(3)  # the two EVs and the session charging now
    expect(results.nth(0)).to_contain_text("EV 1: A new charger on grid connection")
    expect(results.nth(1)).to_contain_text("EV 2: A new charger on grid connection")
    expect(results.nth(2)).to_contain_text("CP-LOAD · EVSE 1 (charging now)")
    expect(page.locator("[data-what-if-nodes] tbody tr")).to_have_count(1)
