"""In a real browser: the site owner's portal follows their chargers live."""

import pytest
from django.utils import timezone
from ocpp.v16 import call
from playwright.sync_api import expect

from chargers.models import Connector
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_site_owner_watches_a_connector_change_state_without_reloading(
    tenant_a, site_a, paula, make_charger, plug_in, charger_loop, log_in
):
    charger = make_charger(tenant_a, identity="CP-PORTAL", site=site_a)
    with scoping.scope(tenant_a):
        Connector.objects.create(
            charger=charger, evse_id=1, connector_id=1, status="Available", status_at=timezone.now()
        )
    page = log_in(paula, f"/portal/tenant-a/sites/{site_a.pk}/")
    status = page.locator(f'[data-connector="{charger.pk}-1-1"] [data-field=status]')
    expect(status).to_have_text("Available")

    # The page's socket is open before the charger speaks: what it then shows came live.
    expect(page.locator("[data-live-status]")).to_have_attribute("data-live-status", "live")
    cp = plug_in("CP-PORTAL")

    async def charge():
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
        )

    charger_loop.run(charge())
    expect(status).to_have_text("Charging")
    expect(status).to_have_class("state state-charging")
