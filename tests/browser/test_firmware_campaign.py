"""In a real browser: a firmware campaign's page follows the rollout wave by wave, without the
operator reloading it."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chargers.firmware.models import FirmwareImage
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.ocpp import builders
from cpms.tenancy import scoping
from tests.browser.threads import off_the_loop
from tests.chargers.firmware.fleet import MODEL, VENDOR, FakeFleet, make_chargers
from tests.helpers import eager_tasks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL,
        reason="the rollout runs in the test process (a fleet of in-process chargers): its "
        "events reach the server's dashboards over Redis only (CI=true sets REDIS_URL)",
    ),
]


def test_the_campaign_page_shows_each_wave_progress_as_it_happens(
    tenant_a, site_a, alice, log_in, monkeypatch
):
    fleet = FakeFleet(failing={"CP-0004"})
    monkeypatch.setattr(builders, "perform", fleet.perform)
    with scoping.scope(tenant_a):
        image = FirmwareImage.objects.create(
            vendor=VENDOR, model=MODEL, version="2.0.0", external_url="https://fw.a.test/2.bin"
        )
        make_chargers(4, site=site_a)
        campaign = campaign_create(
            name="Live rollout", image=image, canary_size=1, batch_size=3, max_attempts=1
        )
    page = log_in(alice, f"/t/tenant-a/firmware/campaigns/{campaign.pk}/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    state = page.locator("h1 [data-field=state]")
    expect(state).to_have_text("Draft")

    def rollout(work, **kwargs):
        def step():
            with scoping.scope(tenant_a), eager_tasks():
                work(**kwargs)

        off_the_loop(step)

    rollout(campaign_start, campaign=campaign)  # the canary's update goes out
    expect(state).to_have_text("Running")
    canary, batch = page.locator('tr[data-wave="0"]'), page.locator('tr[data-wave="1"]')
    expect(canary).to_contain_text("0%")

    rollout(fleet.play)  # the canary boots on 2.0.0; the batch's updates go out
    expect(canary).to_contain_text("100%")
    expect(canary).to_contain_text("Updated 1")
    expect(batch).to_contain_text("Running")

    rollout(fleet.play)  # one of the batch fails: a third of it, past the 10% threshold
    expect(page.locator("h1 [data-field=state]")).to_have_text("Paused")
    expect(page.locator("[data-field=paused-reason]")).to_contain_text("1 of 3 chargers failed")
    expect(page.locator('tr[data-wave="1"]')).to_contain_text("Failed 1")
