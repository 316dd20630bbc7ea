"""One charger with a broken clock never breaks a page: rows already stored with times at the
ends of what a datetime can hold (year 9999, year 1), as old data would be, are shown as given
and left out of charts, for tenants on either side of UTC."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from chargers.models import ChargerEvent, ChargingSession, Connector, EventKind, SessionState
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet, meter_sample, status_event

LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FIRST = datetime(1, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["Asia/Tokyo", "America/Los_Angeles"])
def broken_clocks(request, tenant_a, site_a):
    """Tenant A and its site in a zone east or west of UTC, with a session, samples, statuses
    and an event at each end of time, written as old rows were."""
    tenant_a.timezone = request.param
    tenant_a.save(update_fields=["timezone"])
    with scoping.scope(tenant_a):
        site_a.timezone = request.param
        site_a.save(update_fields=["timezone"])
        rows = make_fleet(site_a)
        charger = rows["charger"]
        for number, (start, stop) in enumerate([(LAST, LAST), (FIRST, FIRST), (FIRST, LAST)]):
            session = ChargingSession.objects.create(
                charger=charger,
                site=site_a,
                evse_id=1,
                connector_id=1,
                transaction_id=f"9{number}",
                started_at=start,
                stopped_at=stop,
                state=SessionState.COMPLETED,
                timestamp_suspect=True,
                meter_start_wh=Decimal(0),
                meter_stop_wh=Decimal(1000),
                energy_wh=Decimal(1000),
            )
            if number < 2:
                meter_sample(charger, start, 1000, session=session, unit="Wh").save()
        status_event(charger, "Faulted", at=LAST).save()
        status_event(charger, "Available", at=FIRST).save()
        Connector.objects.filter(charger=charger).update(status_at=LAST)
        for at in (LAST, FIRST):
            ChargerEvent.objects.create(charger=charger, kind=EventKind.SECURITY_EVENT, at=at)
        return {**rows, "session": session}


def tenant_page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.mark.parametrize(
    "name,arg",
    [
        ("tenant_overview", None),
        ("session_list", None),
        ("session_export", None),
        ("session_detail", "session"),
        ("charger_list", None),
        ("charger_detail", "charger"),
        ("charger_states", None),
        ("site_list", None),
        ("site_detail", "site"),
    ],
)
def test_operators_pages_answer_with_rows_at_the_ends_of_time(
    client, broken_clocks, site_a, alice, name, arg
):
    client.force_login(alice)
    pk = {"session": broken_clocks["session"].pk, "charger": broken_clocks["charger"].pk}
    kwargs = {} if arg is None else {"pk": site_a.pk if arg == "site" else pk[arg]}
    response = client.get(tenant_page(name, **kwargs))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if name in ("session_list", "session_export"):
        assert b"9999-12-31" in body and b"0001-01-01" in body


@pytest.mark.parametrize("name", ["portal_home", "portal_site", "portal_export"])
def test_portal_pages_answer_with_rows_at_the_ends_of_time(
    client, broken_clocks, site_a, paula, name
):
    client.force_login(paula)
    kwargs = {} if name == "portal_home" else {"pk": site_a.pk}
    response = client.get(reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs}))
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)


def test_the_platform_page_counts_no_session_of_year_9999_as_recent(client, broken_clocks, staff):
    client.force_login(staff)
    response = client.get(reverse("platform"))
    assert response.status_code == 200
    (tenant,) = response.context["tenants"]
    assert tenant.sessions_24h == 1  # make_fleet's running session, not year 9999's


@pytest.mark.parametrize("resource", ["sessions", "meter-samples", "status-events", "chargers"])
def test_the_api_lists_rows_at_the_ends_of_time(api, keys, broken_clocks, resource):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    if resource == "sessions":
        started = {row["started_at"] for row in response.json()["results"]}
        assert {"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"} <= started
