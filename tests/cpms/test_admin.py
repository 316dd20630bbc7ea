"""The Django admin: platform staff see everything, tenant admins only their own rows."""

import pytest
from django.contrib import admin
from django.urls import reverse

from chargers.models import IdToken
from cpms import scoping
from cpms.models import Membership, Site, Tenant
from cpms.scoping import TenantOwned


def tenant_owned_admins():
    return sorted(
        (model for model in admin.site._registry if issubclass(model, TenantOwned)),
        key=lambda model: model._meta.label,
    )


@pytest.fixture
def a_rows(tenant_a, site_a, owner_a, alice, bob):
    """One row of tenant A for every tenant-owned model in the admin."""
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid="04A")
        rows = {model: model.objects.first() for model in tenant_owned_admins()}
    assert all(rows.values()), "a fixture row is missing for a model registered in the admin"
    return rows


def admin_url(obj, view):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_charlie_gets_404_on_every_tenant_a_object_in_the_admin(client, a_rows, charlie, view):
    client.force_login(charlie)
    for obj in a_rows.values():
        assert client.get(admin_url(obj, view)).status_code == 404, obj._meta.label


def test_charlies_admin_lists_show_none_of_tenant_a(client, a_rows, charlie, tenant_b):
    with scoping.scope(tenant_b):
        Site.objects.create(name="Depot B")
    client.force_login(charlie)
    page = client.get(reverse("admin:cpms_site_changelist"))
    assert page.status_code == 200
    assert b"Depot B" in page.content and b"Mall A" not in page.content


def test_charlie_cannot_see_tenant_a_itself(client, a_rows, charlie, tenant_a):
    client.force_login(charlie)
    assert client.get(reverse("admin:cpms_tenant_change", args=[tenant_a.pk])).status_code == 404
    assert client.get(reverse("admin:cpms_user_changelist")).status_code == 403


def test_charlie_cannot_delete_tenant_a_rows_through_the_admin(client, a_rows, charlie, tenant_a):
    client.force_login(charlie)
    for obj in a_rows.values():
        client.post(admin_url(obj, "delete"), {"post": "yes"})
    with scoping.unscoped():
        for model, obj in a_rows.items():
            assert model.objects.filter(pk=obj.pk).exists()


def test_alice_sees_her_tenants_rows_in_the_admin(client, a_rows, alice):
    client.force_login(alice)
    for obj in a_rows.values():
        assert client.get(admin_url(obj, "change")).status_code == 200, obj._meta.label


def test_alice_adds_a_site_that_lands_in_her_tenant(client, a_rows, alice, tenant_a):
    client.force_login(alice)
    response = client.post(
        reverse("admin:cpms_site_add"), {"name": "Admin Site", "timezone": "UTC"}
    )
    assert response.status_code == 302
    with scoping.unscoped():
        assert Site.objects.get(name="Admin Site").tenant == tenant_a


def test_bob_who_is_not_staff_is_sent_to_the_admin_login(client, a_rows, bob):
    client.force_login(bob)
    response = client.get(reverse("admin:cpms_site_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_platform_staff_see_every_tenant(client, a_rows, staff, charlie, tenant_b):
    with scoping.scope(tenant_b):
        Site.objects.create(name="Depot B")
    client.force_login(staff)
    page = client.get(reverse("admin:cpms_site_changelist"))
    assert b"Depot B" in page.content and b"Mall A" in page.content
    assert client.get(reverse("admin:cpms_tenant_changelist")).status_code == 200
    with scoping.unscoped():
        assert Tenant.objects.count() == 2 and Membership.objects.count() == 3
