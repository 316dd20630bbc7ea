"""In a real browser: an operator sends a command to a connected charger, the page answers at
once, and the charger's answer appears in the command log when it comes, without a reload."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)
# As the page was rendered: the charger's connection may or may not have taken the command yet.
PENDING = re.compile(r"^(Queued|Sent, waiting for the reply)\.$")


def test_an_operator_sees_the_chargers_answer_appear_without_a_reload(
    tenant_a, site_a, olga, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-ASK", site=site_a)
    cp = plug_in("CP-ASK")

    async def think():
        # The charger thinks until the test lets it answer.
        cp.answering.clear()

    async def answer():
        cp.answering.set()

    charger_loop.run(think())
    page = log_in(olga, f"/t/tenant-a/chargers/{charger.pk}/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    page.get_by_role("button", name="Clear cache").click()

    # Sent, and the page is back at once while the charger still has not answered.
    expect(page.locator(".messages")).to_contain_text(
        "ClearCache sent; the charger's answer shows in the command log as it arrives."
    )
    row = page.locator("[data-command-log] tbody tr").first
    expect(row).to_contain_text("ClearCache")
    expect(row.locator("[data-field=outcome]")).to_have_text(PENDING)
    page.evaluate("window.notReloaded = true")

    charger_loop.run(answer())
    expect(row.locator("[data-field=outcome]")).to_have_text("The charger replied Accepted.")
    expect(row.locator("[data-field=duration]")).not_to_have_text("—")
    assert page.evaluate("window.notReloaded") is True
    assert cp.received == [("ClearCache", {})]


def test_a_configuration_read_shows_on_the_configuration_page_when_the_charger_answers(
    tenant_a, site_a, olga, make_charger, plug_in, log_in
):
    charger = make_charger(tenant_a, identity="CP-KEYS", site=site_a)
    plug_in("CP-KEYS")
    page = log_in(olga, f"/t/tenant-a/chargers/{charger.pk}/configuration/")
    page.get_by_role("button", name="Read from the charger").click()
    expect(page.locator(".messages")).to_contain_text("GetConfiguration sent")
    outcome = page.locator("[data-command-log] tbody tr [data-field=outcome]").first
    expect(outcome).to_have_text("The charger sent 2 keys; reload the configuration to see them.")
    page.reload()
    expect(page.locator("#keys")).to_contain_text("HeartbeatInterval")
