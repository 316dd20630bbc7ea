"""Admins tag chargers on the charger page; the fleet list shows, filters and exports by tag."""

import csv
import io

import pytest
from django.urls import reverse

from chargers.models import Charger
from cpms.models import Site
from cpms.tenancy import scoping


def page(name, slug="tenant-a", **kwargs):
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


@pytest.fixture
def charger(fleet):
    return fleet["charger"]


def stored(charger):
    with scoping.unscoped():
        return Charger.objects.values_list("tags", "site_id").get(pk=charger.pk)


def tag_form(charger, tags, slug="tenant-a"):
    return page("charger_edit", slug=slug, pk=charger.pk), {"form": "tags", "tags": tags}


def test_an_admin_tags_a_charger_on_its_page_and_its_site_stays(client, alice, charger, site_a):
    client.force_login(alice)
    response = client.post(*tag_form(charger, "Depot, beta-firmware depot"), follow=True)
    assert response.status_code == 200
    assert stored(charger) == (["depot", "beta-firmware"], site_a.pk)
    assert b"tags saved" in response.content
    assert b'href="/t/tenant-a/chargers/?tag=beta-firmware"' in response.content


def test_a_bad_tag_is_refused_naming_tags_and_changes_nothing(client, alice, charger):
    with scoping.unscoped():
        Charger.objects.filter(pk=charger.pk).update(tags=["kept"])
    client.force_login(alice)
    response = client.post(*tag_form(charger, "fine, not/fine"), follow=True)
    assert "Tags: &#x27;not/fine&#x27; is not a tag" in response.content.decode()
    assert stored(charger)[0] == ["kept"]


def test_the_edit_form_sets_site_and_tags_together(client, alice, tenant_a, charger):
    with scoping.scope(tenant_a):
        depot = Site.objects.create(name="Depot")
    client.force_login(alice)
    client.post(page("charger_edit", pk=charger.pk), {"site": depot.pk, "tags": "depot north"})
    assert stored(charger) == (["depot", "north"], depot.pk)


@pytest.mark.parametrize("member", ["bob", "olga"])
def test_viewers_and_operators_cannot_tag_and_see_no_tag_form(client, request, charger, member):
    client.force_login(request.getfixturevalue(member))
    assert client.post(*tag_form(charger, "depot")).status_code == 403
    assert stored(charger)[0] == []
    assert b'name="tags"' not in client.get(page("charger_detail", pk=charger.pk)).content


def test_charlie_cannot_tag_a_tenant_a_charger(client, charlie, charger):
    client.force_login(charlie)
    assert client.post(*tag_form(charger, "depot", slug="tenant-b")).status_code == 404
    assert stored(charger)[0] == []


@pytest.fixture
def tagged_fleet(tenant_a, tenant_b, site_a):
    with scoping.scope(tenant_a):
        Charger.objects.create(identity="CP-DEPOT", site=site_a, tags=["depot", "north"])
        Charger.objects.create(identity="CP-NORTH", site=site_a, tags=["north"])
        Charger.objects.create(identity="CP-PLAIN", site=site_a)
    with scoping.scope(tenant_b):
        Charger.objects.create(identity="CP-B-DEPOT", tags=["depot", "b-only"])


def test_the_fleet_list_shows_and_filters_by_tag(client, bob, tagged_fleet):
    client.force_login(bob)
    response = client.get(page("charger_list"), {"tag": "depot"})
    shown = [c.identity for c in response.context["page"]]
    assert shown == ["CP-DEPOT"]
    # The menu offers the tenant's tags only.
    assert response.context["choices"]["tag"] == ["depot", "north"]
    assert b">north</a>" in response.content


def test_a_tag_no_charger_can_carry_lists_nothing_and_its_export_is_refused(
    client, bob, tagged_fleet
):
    client.force_login(bob)
    assert list(client.get(page("charger_list"), {"tag": "N/O"}).context["page"]) == []
    response = client.get(page("charger_export"), {"tag": "N/O"})
    assert response.status_code == 400 and response.content.startswith(b"tag: ")


def test_the_export_carries_the_tags_of_the_filtered_chargers(client, bob, tagged_fleet):
    client.force_login(bob)
    response = client.get(page("charger_export"), {"tag": "north"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["identity"], r["tags"]) for r in rows] == [
        ("CP-DEPOT", "depot north"),
        ("CP-NORTH", "north"),
    ]
