"""In a real browser: sessions appear in the tables as they start, and change as they stop."""

import re

import pytest
from django.utils import timezone
from ocpp.v16 import call
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def stamp() -> str:
    return timezone.now().isoformat()


def test_a_new_session_appears_in_the_session_list_and_on_the_charger_page_without_reload(
    tenant_a, site_a, olga, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-ROWS", site=site_a)
    sessions = log_in(olga, "/t/tenant-a/sessions/")
    expect(sessions.locator("[data-live-empty]")).to_be_visible()
    detail = sessions.context.new_page()
    detail.goto(sessions.url.replace("/sessions/", f"/chargers/{charger.pk}/"))
    overview = sessions.context.new_page()
    overview.goto(sessions.url.replace("/sessions/", "/"))
    for page in (sessions, detail, overview):
        expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    cp = plug_in("CP-ROWS")
    tx = plug_in.start_charging(cp, "<i>TAG-2</i>", meter_start=1000)

    async def stop():
        await cp.call(
            call.StopTransaction(
                transaction_id=tx, meter_stop=4000, timestamp=stamp(), reason="Local"
            )
        )

    row = sessions.locator("tbody[data-live-rows] tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("CP-ROWS")
    # The id tag's markup is text in the row, not an element.
    expect(row).to_contain_text("<i>TAG-2</i>")
    assert row.locator("i").count() == 0
    expect(sessions.locator("[data-live-empty]")).to_be_hidden()
    recent = detail.locator("tbody[data-live-rows] tr")
    expect(recent).to_have_count(1)
    expect(recent).to_contain_text("<i>TAG-2</i>")
    running = overview.locator("tbody[data-live-rows] tr")
    expect(running).to_have_count(1)
    expect(running).to_contain_text("CP-ROWS")
    # The live feed names the charger by its charge point id, also for events that carry
    # only its database id (a connector's status), at a 24-hour time of the tenant's zone.
    feed = overview.locator("[data-live-log] li")
    expect(feed.filter(has_text="CP-ROWS connector 1: Charging")).to_have_count(1)
    expect(feed.filter(has_text="CP-ROWS connector 1: session started")).to_have_count(1)
    expect(feed.locator("time").first).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"))
    assert not [line for line in feed.all_inner_texts() if f"charger {charger.pk}" in line]
    # The remote stop form now names the running transaction.
    stop_input = detail.locator("input[name=transaction_id]")
    expect(stop_input).to_have_value(str(tx))
    # The charger's state, derived from its connectors, follows without a reload too.
    expect(detail.locator("[data-field=state]")).to_have_text("Charging")

    charger_loop.run(stop())
    expect(row).to_contain_text("Completed")
    expect(row.locator("[data-field=energy]")).to_have_text("3.00 kWh")
    expect(recent).to_contain_text("Local")
    # A stopped session leaves the overview's running sessions.
    expect(running).to_have_count(0)


def test_the_remote_stop_form_keeps_naming_a_session_that_still_runs_on_another_connector(
    tenant_a, site_a, olga, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-TWO", site=site_a)
    detail = log_in(olga, f"/t/tenant-a/chargers/{charger.pk}/")
    expect(detail.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    stop_input = detail.locator("input[name=transaction_id]")
    cp = plug_in("CP-TWO")
    holder = {}

    async def start(connector_id):
        started = await cp.call(
            call.StartTransaction(
                connector_id=connector_id, id_tag="TAG-2", meter_start=0, timestamp=stamp()
            )
        )
        holder[connector_id] = str(started.transaction_id)

    async def stop(connector_id):
        await cp.call(
            call.StopTransaction(
                transaction_id=int(holder[connector_id]),
                meter_stop=1000,
                timestamp=stamp(),
                reason="Local",
            )
        )

    charger_loop.run(start(1))
    expect(stop_input).to_have_value(holder[1])
    recent = detail.locator("tbody[data-live-rows] tr")

    # A second connector's start does not replace the transaction the form names.
    charger_loop.run(start(2))
    expect(recent).to_have_count(2)
    expect(stop_input).to_have_value(holder[1])

    # Nor does that second session's stop clear it: the first still runs.
    charger_loop.run(stop(2))
    expect(recent.filter(has_text="Local")).to_have_count(1)
    expect(stop_input).to_have_value(holder[1])

    charger_loop.run(stop(1))
    expect(stop_input).to_have_value("")


def test_two_sessions_on_one_charger_each_keep_a_card_of_their_own(
    tenant_a, site_a, olga, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-PAIR", site=site_a)
    detail = log_in(olga, f"/t/tenant-a/chargers/{charger.pk}/")
    expect(detail.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    cp = plug_in("CP-PAIR")
    holder = {}

    async def start(connector_id):
        started = await cp.call(
            call.StartTransaction(
                connector_id=connector_id, id_tag=f"TAG-{connector_id}", meter_start=0,
                timestamp=stamp(),
            )
        )  # fmt: skip
        holder[connector_id] = started.transaction_id

    async def meter(connector_id, wh):
        await cp.call(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=holder[connector_id],
                meter_value=[
                    {
                        "timestamp": stamp(),
                        "sampled_value": [
                            {"value": str(wh), "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            )
        )

    cards = detail.locator("[data-running-sessions] [data-session]")
    charger_loop.run(start(1))
    charger_loop.run(start(2))
    expect(cards).to_have_count(2)
    first = cards.filter(has_text="Connector 1")
    second = cards.filter(has_text="Connector 2")
    charger_loop.run(meter(1, 1500))
    expect(first.locator("[data-field=energy]")).to_have_text("1.50 kWh")
    charger_loop.run(meter(2, 4000))
    expect(second.locator("[data-field=energy]")).to_have_text("4.00 kWh")
    # The second session's news went to its own card: the first still shows its figures.
    expect(first.locator("[data-field=energy]")).to_have_text("1.50 kWh")
    expect(first.locator("[data-field=id-tag]")).to_have_text("TAG-1")
    expect(second.locator("[data-field=id-tag]")).to_have_text("TAG-2")
