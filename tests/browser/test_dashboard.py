"""In a real browser: the live fleet, a command and its reply, alerts, the site owner's view."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from ocpp.v16 import call
from playwright.sync_api import expect

from chargers.alerts.tasks import evaluate_all
from chargers.models import Charger
from chargers.tasks import mark_silent_chargers_offline
from cpms.models import Site
from cpms.tenancy import scoping
from tests.browser.threads import off_the_loop

pytestmark = pytest.mark.django_db(transaction=True)


def beat(*tasks) -> None:
    """Run periodic tasks as beat would: in a thread of their own, away from Playwright's
    event loop (their events reach the server over Redis through async_to_sync)."""
    off_the_loop(lambda: [task() for task in tasks])


def stamp() -> str:
    return timezone.now().isoformat()


def test_an_operator_watches_a_charger_come_online_charge_and_reset(
    tenant_a, site_a, olga, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-LIVE", site=site_a)
    page = log_in(olga, f"/t/tenant-a/chargers/{charger.pk}/")
    heading = page.locator("h1 [data-field=connection]")
    expect(heading).to_have_text("Offline")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")

    cp = plug_in("CP-LIVE", vendor="<b>Acme</b>")
    tx = plug_in.start_charging(cp, "TAG-1", meter_start=1000)

    async def meter(wh):
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=tx,
                meter_value=[
                    {
                        "timestamp": stamp(),
                        "sampled_value": [
                            {
                                "value": str(wh),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            )
        )

    expect(heading).to_have_text("Online")
    status = page.locator("[data-connector] [data-field=status]")
    energy = page.locator("[data-running-sessions] [data-field=energy]")
    charger_loop.run(meter(2000))
    expect(energy).to_have_text("1.00 kWh")
    charger_loop.run(meter(3500))
    expect(energy).to_have_text("2.50 kWh")
    expect(page.locator("[data-running-sessions] [data-field=power]")).to_have_text("11.00 kW")

    # The page was never reloaded: the connector row it rendered says nothing yet.
    assert status.count() == 0
    page.get_by_role("button", name="Soft reset").click()
    expect(page.locator(".messages")).to_contain_text("Reset sent")
    expect(page.locator("[data-command-log] tbody tr").first).to_contain_text(
        "The charger replied Accepted."
    )
    # The vendor's markup was shown as text.
    expect(page.locator("[data-field=vendor]")).to_have_text("<b>Acme</b>")


@pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="the alert is raised by beat jobs run in the test process: its events reach the "
    "server's dashboards over Redis only (CI=true sets REDIS_URL)",
)
def test_an_alert_opens_when_a_charger_goes_silent_and_resolves_when_it_returns(
    tenant_a, site_a, olga, make_charger, plug_in, log_in
):
    make_charger(tenant_a, identity="CP-QUIET", site=site_a)
    page = log_in(olga, "/t/tenant-a/")
    badge = page.locator("[data-alert-count]")
    expect(badge).to_have_text("0")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")

    plug_in("CP-QUIET")
    expect(page.locator("[data-count=available]")).to_have_text("1")
    # Silence: nothing arrived for longer than the heartbeat allowance; beat notices.
    with scoping.scope(tenant_a):
        Charger.objects.update(last_seen=timezone.now() - timedelta(hours=1))
    beat(mark_silent_chargers_offline, evaluate_all)
    expect(badge).to_have_text("1")
    expect(page.locator("[data-count=offline]")).to_have_text("1")

    # It comes back the way silent chargers do: a new connection (the old one is dead).
    plug_in.unplug("CP-QUIET")
    plug_in("CP-QUIET")
    expect(page.locator("[data-count=available]")).to_have_text("1")
    beat(evaluate_all)
    expect(badge).to_have_text("0")
    page.goto(page.url.replace("/t/tenant-a/", "/t/tenant-a/alerts/") + "?show=all")
    expect(page.locator("tbody tr")).to_contain_text(re.compile(r"CP-QUIET is offline"))
    expect(page.locator("tbody tr")).not_to_contain_text("open")


def test_the_site_owner_sees_only_their_own_site(tenant_a, site_a, paula, log_in, server_url):
    with scoping.scope(tenant_a):
        other = Site.objects.create(name="Someone else's depot")
    page = log_in(paula, "/portal/tenant-a/")
    expect(page.locator("main")).to_contain_text("Mall A")
    expect(page.locator("main")).not_to_contain_text("Someone else")
    page.get_by_role("link", name="Mall A").click()
    expect(page.locator("h1")).to_have_text("Mall A")
    response = page.goto(f"{server_url}/portal/tenant-a/sites/{other.pk}/")
    assert response.status == 404
