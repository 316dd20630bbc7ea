"""What every page's frame shows: a favicon, one live indicator (no "live: live" labels), the
tenant's name in the header, and labelled inputs where placeholders were cut short."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_every_page_names_a_favicon_that_exists(client, tenant_a, bob):
    client.force_login(bob)
    html = client.get(page("tenant_overview")).content.decode()
    (href,) = re.findall(r'<link rel="icon" href="/static/([^"]+)"', html)
    assert finders.find(href)


def test_browsers_that_ask_for_favicon_ico_get_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("cpms/favicon.svg")


@pytest.mark.parametrize(
    "name,kwargs",
    [("tenant_overview", {}), ("charger_list", {}), ("session_list", {}), ("charger_detail", 1)],
)
def test_the_live_state_is_one_indicator_in_the_header_not_a_label_per_page(
    client, fleet, bob, name, kwargs
):
    client.force_login(bob)
    kwargs = {"pk": fleet["charger"].pk} if kwargs else {}
    html = client.get(page(name, **kwargs)).content.decode()
    assert "live: " not in html
    assert html.count("data-live-status") == 1
    assert re.search(r'<header class="appbar">.*data-live-status.*</header>', html, re.S)


def test_the_header_names_the_tenant(client, fleet, bob):
    client.force_login(bob)
    html = client.get(page("charger_list")).content.decode()
    assert re.search(r'<a class="brand"[^>]*>.*<span class="name">Tenant A</span>', html, re.S)


def test_the_command_inputs_have_labels_not_placeholders_cut_short(client, fleet, olga):
    client.force_login(olga)
    html = client.get(page("charger_detail", pk=fleet["charger"].pk)).content.decode()
    assert 'placeholder="Connector"' not in html
    assert re.search(r"<label>Connector<input type=\"number\" name=\"evse_id\"", html)
    assert re.search(r'<label class="grow">Id token<input type="text" name="id_tag"', html)


def test_the_live_feed_is_told_the_tenants_time_zone(client, fleet, bob):
    client.force_login(bob)
    html = client.get(page("tenant_overview")).content.decode()
    assert 'data-timezone="Europe/Berlin"' in html
    assert 'data-names-url="/t/tenant-a/live/names/"' in html


def test_the_live_feed_asks_for_charge_point_ids_by_database_id(client, fleet, bob, charlie):
    client.force_login(bob)
    url = page("charger_names")
    assert client.get(url, {"ids": f"{fleet['charger'].pk},x,999999"}).json() == {
        str(fleet["charger"].pk): "CP-A1"
    }
    client.force_login(charlie)
    assert client.get(url, {"ids": str(fleet["charger"].pk)}).status_code == 404
