"""Admins add chargers and place them at sites from the dashboard."""

import pytest
from django.urls import reverse

from chargers.models import Charger
from cpms import hashing
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_an_admin_adds_a_charger_and_sees_its_password_once(client, tenant_a, site_a, alice):
    client.force_login(alice)
    response = client.post(
        page("charger_create"), {"identity": "NEW-42", "site": site_a.pk}, follow=True
    )
    password = response.context["password"]
    assert response.status_code == 200 and password.encode() in response.content
    assert b"NEW-42 added" in response.content
    assert response["Cache-Control"].startswith("max-age=0")
    with scoping.scope(tenant_a):
        charger = Charger.objects.get(identity="NEW-42")
    assert response.redirect_chain == [(page("charger_credentials", pk=charger.pk), 302)]
    assert charger.site == site_a and charger.tenant == tenant_a
    assert hashing.check(password, charger.password_hash)
    detail = client.get(page("charger_credentials", pk=charger.pk))
    assert password.encode() not in detail.content


def test_reloading_after_adding_a_charger_adds_nothing_more(client, tenant_a, alice):
    client.force_login(alice)
    response = client.post(page("charger_create"), {"identity": "NEW-46"})
    assert response.status_code == 302
    shown = client.get(response["Location"])
    reloaded = client.get(response["Location"])
    assert shown.context["password"] and reloaded.context["password"] is None
    with scoping.scope(tenant_a):
        assert Charger.objects.filter(identity="NEW-46").count() == 1


def test_an_admin_may_choose_the_password(client, tenant_a, alice):
    client.force_login(alice)
    client.post(page("charger_create"), {"identity": "NEW-43", "password": "chosen-password-0042"})
    with scoping.scope(tenant_a):
        stored = Charger.objects.get(identity="NEW-43").password_hash
    assert hashing.check("chosen-password-0042", stored)


@pytest.mark.parametrize(
    "identity,problem",
    [
        ("CP:1", "without &#x27;:&#x27;"),
        ("X" * 49, "at most 48 characters"),
        ("cp-a1", "exists"),
    ],
)
def test_a_bad_or_taken_charge_point_id_is_refused(
    client, tenant_a, site_a, alice, identity, problem
):
    with scoping.scope(tenant_a):
        make_fleet(site_a)
    client.force_login(alice)
    response = client.post(page("charger_create"), {"identity": identity})
    assert response.status_code == 200 and response.context["form"].errors["identity"]
    assert problem in response.content.decode()
    with scoping.scope(tenant_a):
        assert Charger.objects.count() == 1


def test_a_short_password_is_refused_and_no_charger_added(client, tenant_a, alice):
    client.force_login(alice)
    response = client.post(page("charger_create"), {"identity": "NEW-44", "password": "short"})
    assert response.context["form"].errors["password"]
    with scoping.scope(tenant_a):
        assert not Charger.objects.exists()


def test_an_admin_moves_a_charger_to_another_site_but_not_its_id(client, tenant_a, site_a, alice):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
        depot = Site.objects.create(name="Depot")
    client.force_login(alice)
    client.post(page("charger_edit", pk=charger.pk), {"identity": "RENAMED", "site": depot.pk})
    with scoping.scope(tenant_a):
        charger.refresh_from_db()
    assert charger.site == depot and charger.identity == "CP-A1"


def test_an_admin_cannot_place_a_charger_at_another_tenants_site(
    client, tenant_a, tenant_b, site_a, alice
):
    with scoping.scope(tenant_b):
        foreign = Site.objects.create(name="Depot B")
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
    client.force_login(alice)
    response = client.post(page("charger_edit", pk=charger.pk), {"site": foreign.pk})
    assert response.context["form"].errors["site"]
    with scoping.scope(tenant_a):
        charger.refresh_from_db()
    assert charger.site == site_a


def test_an_operator_cannot_add_a_charger(client, tenant_a, olga):
    client.force_login(olga)
    assert client.post(page("charger_create"), {"identity": "NEW-45"}).status_code == 403
    with scoping.scope(tenant_a):
        assert not Charger.objects.exists()


def test_charlie_cannot_edit_a_tenant_a_charger_from_his_slug(client, tenant_a, site_a, charlie):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
    client.force_login(charlie)
    url = reverse("charger_edit", kwargs={"tenant_slug": "tenant-b", "pk": charger.pk})
    assert client.post(url, {"site": ""}).status_code == 404
    with scoping.scope(tenant_a):
        charger.refresh_from_db()
    assert charger.site == site_a
