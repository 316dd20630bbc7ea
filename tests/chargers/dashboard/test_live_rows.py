"""Session rows the live pages insert: the partial they fetch, and where the pages ask for it."""

import pytest
from django.urls import reverse

from chargers.models import ChargingSession, SessionState
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


def row_url(session, slug="tenant-a"):
    return reverse("session_row", kwargs={"tenant_slug": slug, "pk": session.pk})


def test_a_session_row_is_the_lists_row(client, fleet, bob):
    client.force_login(bob)
    response = client.get(row_url(fleet["session"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<tr") and body.count("<td") == 8  # the list has eight columns
    assert f'data-session="{fleet["session"].pk}"' in body
    assert "CP-A1" in body and "04AABBCC" in body and "3.50 kWh" in body and "Charging" in body
    # Times in the tenant's zone (Europe/Berlin), as the list shows them.
    assert "CET" in body or "CEST" in body


def test_an_id_tag_with_markup_comes_back_as_text(client, tenant_a, fleet, bob):
    with scoping.scope(tenant_a):
        ChargingSession.objects.update(id_tag="<img src=x onerror=alert(1)>")
    client.force_login(bob)
    body = client.get(row_url(fleet["session"])).content.decode()
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize(
    "filters",
    [
        {"state": SessionState.COMPLETED},
        {"charger": "SOMEONE-ELSE"},
        {"id_token": "OTHER"},
        {"until": "2001-01-01"},
    ],
)
def test_a_session_the_lists_filters_exclude_gets_no_row(client, fleet, bob, filters):
    client.force_login(bob)
    response = client.get(row_url(fleet["session"]), filters)
    assert response.status_code == 204 and response.content == b""


def test_a_session_the_lists_filters_include_gets_its_row(client, fleet, site_a, bob):
    client.force_login(bob)
    filters = {"state": SessionState.ACTIVE, "site": site_a.pk, "charger": "cp-a1"}
    assert client.get(row_url(fleet["session"]), filters).status_code == 200


def test_the_charger_pages_row_is_shown_in_the_sites_time_zone(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        Site.objects.filter(pk=site_a.pk).update(timezone="America/New_York")
        session = make_fleet(site_a)["session"]
    client.force_login(bob)
    body = client.get(row_url(session), {"variant": "charger"}).content.decode()
    assert body.count("<td") == 6 and ("EST" in body or "EDT" in body)


def test_a_running_session_has_no_stop_reason_on_the_charger_page(client, fleet, bob):
    client.force_login(bob)
    body = client.get(row_url(fleet["session"]), {"variant": "charger"}).content.decode()
    assert fleet["session"].state == SessionState.ACTIVE
    assert '<td data-label="Stop reason">—</td>' in body
    assert '<td data-label="State"><span class="state state-charging">Charging</span>' in body


def test_a_portal_member_gets_no_session_row(client, fleet, paula):
    client.force_login(paula)
    assert client.get(row_url(fleet["session"])).status_code == 403


def test_charlie_gets_404_for_a_session_row_under_either_slug(client, fleet, charlie):
    client.force_login(charlie)
    assert client.get(row_url(fleet["session"])).status_code == 404
    assert client.get(row_url(fleet["session"], slug="tenant-b")).status_code == 404


def test_the_first_page_of_sessions_asks_for_new_rows_with_its_filters(client, fleet, bob):
    client.force_login(bob)
    url = reverse("session_list", kwargs={"tenant_slug": "tenant-a"})
    body = client.get(url, {"state": "active"}).content.decode()
    assert 'data-live-rows="/t/tenant-a/sessions/0/row/?state=active"' in body


def test_later_pages_of_sessions_take_no_new_rows(client, tenant_a, fleet, bob):
    with scoping.scope(tenant_a):
        first = fleet["session"]
        ChargingSession.objects.bulk_create(
            ChargingSession(
                charger=first.charger,
                site=first.site,
                evse_id=1,
                connector_id=1,
                transaction_id=str(1000 + i),
                started_at=first.started_at,
                stopped_at=first.started_at,
                state=SessionState.COMPLETED,
            )
            for i in range(60)
        )
    client.force_login(bob)
    url = reverse("session_list", kwargs={"tenant_slug": "tenant-a"})
    assert "data-live-rows" not in client.get(url, {"page": "2"}).content.decode()


def test_an_empty_session_list_keeps_a_hidden_table_for_live_rows(client, tenant_a, bob):
    client.force_login(bob)
    body = client.get(reverse("session_list", kwargs={"tenant_slug": "tenant-a"})).content
    assert body.count(b'<div class="table-wrap" hidden>') == 1
    assert body.count(b"data-live-empty") == body.count(b"data-live-rows") == 1


def test_the_charger_page_asks_for_its_own_sessions_rows(client, fleet, bob):
    client.force_login(bob)
    charger = fleet["charger"]
    url = reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})
    body = client.get(url).content.decode()
    assert 'data-live-rows="/t/tenant-a/sessions/0/row/?variant=charger"' in body
    assert f'data-live-charger="{charger.pk}"' in body


# --- Charger states, re-read by live pages --------------------------------------------------------


def test_live_pages_reread_the_states_of_the_chargers_they_show(client, tenant_a, fleet, bob):
    from chargers.models import Charger

    with scoping.scope(tenant_a):
        offline = Charger.objects.create(identity="CP-OFF", is_online=False)
    client.force_login(bob)
    url = reverse("charger_states", kwargs={"tenant_slug": "tenant-a"})
    states = client.get(url, {"ids": f"{fleet['charger'].pk},{offline.pk},x,999999"}).json()
    assert states == {str(fleet["charger"].pk): "charging", str(offline.pk): "offline"}


def test_charger_states_never_include_another_tenants_chargers(
    client, tenant_a, tenant_b, fleet, charlie
):
    from chargers.models import Charger

    with scoping.scope(tenant_b):
        own = Charger.objects.create(identity="CP-B", is_online=False)
    client.force_login(charlie)
    url = reverse("charger_states", kwargs={"tenant_slug": "tenant-b"})
    states = client.get(url, {"ids": f"{fleet['charger'].pk},{own.pk}"}).json()
    assert states == {str(own.pk): "offline"}


def test_the_pages_mark_the_state_for_live_updates(client, fleet, bob):
    client.force_login(bob)
    charger = fleet["charger"]
    for url in [
        reverse("charger_list", kwargs={"tenant_slug": "tenant-a"}),
        reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk}),
    ]:
        body = client.get(url).content.decode()
        assert 'data-field="state">Charging<' in body
        assert 'data-states-url="/t/tenant-a/live/states/"' in body


def test_the_overviews_row_is_a_running_session_and_a_stopped_one_gets_none(
    client, tenant_a, fleet, bob
):
    client.force_login(bob)
    running = client.get(row_url(fleet["session"]), {"variant": "active"})
    assert running.status_code == 200 and running.content.decode().count("<td") == 5
    assert "11.00 kW" in running.content.decode()
    with scoping.scope(tenant_a):
        ChargingSession.objects.update(state=SessionState.COMPLETED)
    stopped = client.get(row_url(fleet["session"]), {"variant": "active"})
    assert stopped.status_code == 204


def test_the_overview_asks_for_running_session_rows(client, fleet, bob):
    client.force_login(bob)
    body = client.get(reverse("tenant_overview", kwargs={"tenant_slug": "tenant-a"})).content
    assert b'data-live-rows="/t/tenant-a/sessions/0/row/?variant=active"' in body
    assert body.count(b"data-session=") == 1
