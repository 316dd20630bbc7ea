"""The platform's resources (sites, site owners, members) and what every resource shares (a
request budget per key): what integrators do with them, and the errors they get."""

from django.urls import reverse

from cpms.api.base import PerKeyThrottle
from cpms.models import ApiKeyRole, Site, SiteOwner
from cpms.tenancy import scoping


def test_a_duplicate_site_name_is_a_400_naming_the_field(api, keys, site_a, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:site-list"), {"name": "MALL A", "timezone": "UTC"}, format="json"
    )
    body = response.json()["error"]
    assert response.status_code == 400
    assert body["fields"] == {"name": ["A site with this name exists already."]}
    assert body["message"].startswith("name: ")


def test_it_refuses_another_tenants_site_owner_naming_the_field(
    api, keys, tenant_b, site_a, owner_a
):
    response = api(keys["charlie"]).post(
        reverse("api:site-list"),
        {"name": "Depot", "timezone": "UTC", "site_owner": owner_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["site_owner"]
    with scoping.scope(tenant_b):
        assert not Site.objects.exists()


def test_members_are_invited_by_email(
    api, keys, tenant_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(keys[ApiKeyRole.ADMIN]).post(
            reverse("api:member-list"), {"email": "eve@a.test", "role": "viewer"}, format="json"
        )
    assert response.status_code == 201 and response.json()["role"] == "viewer"
    assert mailoutbox[0].to == ["eve@a.test"]


def test_a_site_owner_deletion_by_another_tenant_changes_nothing(api, keys, owner_a, tenant_a):
    url = reverse("api:site-owner-detail", args=[owner_a.pk])
    assert api(keys["charlie"]).delete(url).status_code == 404
    with scoping.scope(tenant_a):
        assert SiteOwner.objects.filter(pk=owner_a.pk).exists()


def test_each_key_has_its_own_request_budget(api, keys, world, monkeypatch):
    # Keys are new in every test, so their budgets start full without clearing the cache.
    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", {"api": "3/min"})
    busy, other = api(keys[ApiKeyRole.READ_ONLY]), api(keys[ApiKeyRole.OPERATOR])
    answers = [busy.get(reverse("api:site-list")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = busy.get(reverse("api:site-list"))
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert other.get(reverse("api:site-list")).status_code == 200
