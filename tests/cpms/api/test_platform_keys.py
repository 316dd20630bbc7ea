"""Platform staff keys: a key with a role and no tenant, acting for the tenant each request
names in X-Tenant; and a tenant key, which the header never moves to another tenant."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from chargers.models import IdToken
from cpms.models import ApiKey, ApiKeyRole, PlatformApiKey, Site
from cpms.services import apikeys
from cpms.tenancy import scoping
from tests.factories import make_platform_key


@pytest.fixture
def site_b(tenant_b):
    with scoping.scope(tenant_b):
        return Site.objects.create(name="Depot B")


def site_names(response):
    assert response.status_code == 200, response.content[:500]
    return [site["name"] for site in response.json()["results"]]


def test_a_platform_key_reaches_each_tenant_it_names(api, platform_keys, site_a, site_b):
    secret = platform_keys[ApiKeyRole.READ_ONLY]
    assert site_names(api(secret, "tenant-a").get(reverse("api:site-list"))) == ["Mall A"]
    assert site_names(api(secret, "tenant-b").get(reverse("api:site-list"))) == ["Depot B"]


def test_a_platform_key_without_x_tenant_is_refused_naming_the_header(api, platform_keys, site_a):
    response = api(platform_keys[ApiKeyRole.ADMIN]).get(reverse("api:site-list"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["X-Tenant"]


def test_a_platform_key_naming_an_unknown_tenant_gets_404(api, platform_keys, site_a):
    response = api(platform_keys[ApiKeyRole.ADMIN], "no-such-tenant").get(reverse("api:site-list"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_platform_key_naming_an_inactive_tenant_gets_404(api, platform_keys, tenant_b, site_b):
    tenant_b.is_active = False
    tenant_b.save()
    response = api(platform_keys[ApiKeyRole.ADMIN], "tenant-b").get(reverse("api:site-list"))
    assert response.status_code == 404


def test_a_tenant_key_cannot_reach_another_tenant_through_the_header(
    api, keys, tenant_a, site_a, site_b
):
    client = api(keys[ApiKeyRole.ADMIN], "tenant-b")
    response = client.get(reverse("api:site-list"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["X-Tenant"]
    assert "Depot B" not in response.content.decode()
    written = client.post(reverse("api:id-token-list"), {"uid": "04BB"}, format="json")
    assert written.status_code == 400
    with scoping.unscoped():
        assert not IdToken.objects.exists()


def test_a_tenant_key_gets_the_same_refusal_for_a_tenant_that_does_not_exist(
    api, keys, tenant_b, site_a
):
    existing = api(keys[ApiKeyRole.ADMIN], "tenant-b").get(reverse("api:site-list"))
    missing = api(keys[ApiKeyRole.ADMIN], "no-such-tenant").get(reverse("api:site-list"))
    assert existing.status_code == missing.status_code == 400
    assert existing.json() == missing.json()


def test_a_tenant_key_may_name_its_own_tenant(api, keys, site_a):
    response = api(keys[ApiKeyRole.READ_ONLY], "tenant-a").get(reverse("api:site-list"))
    assert site_names(response) == ["Mall A"]


def test_a_read_only_platform_key_cannot_write(api, platform_keys, tenant_a, site_a):
    client = api(platform_keys[ApiKeyRole.READ_ONLY], "tenant-a")
    response = client.post(reverse("api:id-token-list"), {"uid": "04CC"}, format="json")
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not IdToken.objects.exists()


def test_a_platform_key_writes_into_the_tenant_it_names_only(
    api, platform_keys, tenant_a, tenant_b, site_a
):
    client = api(platform_keys[ApiKeyRole.OPERATOR], "tenant-b")
    response = client.post(reverse("api:id-token-list"), {"uid": "04DD"}, format="json")
    assert response.status_code == 201
    with scoping.scope(tenant_b):
        assert IdToken.objects.get().uid == "04DD"
    with scoping.scope(tenant_a):
        assert not IdToken.objects.exists()


def test_a_key_a_platform_key_creates_belongs_to_the_tenant_and_its_staff_creator(
    api, platform_keys, tenant_a, staff, site_a
):
    response = api(platform_keys[ApiKeyRole.ADMIN], "tenant-a").post(
        reverse("api:api-key-list"), {"name": "For the integrator", "role": "read_only"}
    )
    assert response.status_code == 201
    assert response.json()["created_by"] == staff.email
    assert response.json()["secret"].startswith("cpms_")
    with scoping.scope(tenant_a):
        assert ApiKey.objects.get(pk=response.json()["id"]).name == "For the integrator"


def test_platform_keys_are_not_listed_among_a_tenants_keys(api, keys, platform_keys):
    listed = api(keys[ApiKeyRole.ADMIN]).get(reverse("api:api-key-list")).json()["results"]
    assert listed and all(not row["prefix"].startswith("cpmsp_") for row in listed)


def test_a_revoked_platform_key_stops_working(api, platform_keys, site_a):
    key = PlatformApiKey.objects.get(role=ApiKeyRole.ADMIN)
    apikeys.api_key_revoke(key=key)
    client = api(platform_keys[ApiKeyRole.ADMIN], "tenant-a")
    assert client.get(reverse("api:site-list")).status_code == 401


def test_an_expired_platform_key_is_refused(api, staff, site_a):
    secret = make_platform_key(ApiKeyRole.ADMIN, staff)
    PlatformApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(secret, "tenant-a").get(reverse("api:site-list")).status_code == 401


def demote(staff):
    staff.is_superuser = False
    staff.save()


def deactivate(staff):
    staff.is_active = False
    staff.save()


def delete(staff):
    staff.delete()


@pytest.mark.parametrize("leave", [demote, deactivate, delete])
def test_a_platform_key_stops_working_when_its_owner_leaves_platform_staff(
    api, staff, site_a, leave
):
    secret = make_platform_key(ApiKeyRole.ADMIN, staff)
    unknown = api("cpmsp_unknown0_" + "x" * 40, "tenant-a").get(reverse("api:site-list"))
    leave(staff)
    response = api(secret, "tenant-a").get(reverse("api:site-list"))
    assert response.status_code == 401
    assert response.json() == unknown.json()


def test_only_superusers_hold_platform_keys(alice):
    with pytest.raises(ValueError):
        apikeys.platform_api_key_create(name="Mine", role=ApiKeyRole.ADMIN, created_by=alice)
    assert not PlatformApiKey.objects.exists()


def test_a_tenant_key_shaped_like_a_platform_key_is_refused(api, keys, site_a):
    # The kinds live in separate tables: swapping the marker does not find the other kind.
    forged = "cpmsp_" + keys[ApiKeyRole.ADMIN].removeprefix("cpms_")
    assert api(forged, "tenant-a").get(reverse("api:site-list")).status_code == 401


def test_the_command_creates_a_platform_key_and_prints_it_once(api, staff, site_a):
    out = StringIO()
    call_command(
        "create_platform_api_key", "Support", role="operator", created_by=staff.email, stdout=out
    )
    secret = next(
        word
        for word in out.getvalue().split()
        if word.startswith(apikeys.PLATFORM_KEY_PREFIX) and len(word) > 20
    )
    key = PlatformApiKey.objects.get()
    assert (key.name, key.role, key.created_by) == ("Support", "operator", staff)
    assert secret not in key.secret_hash
    assert site_names(api(secret, "tenant-a").get(reverse("api:site-list"))) == ["Mall A"]


def test_the_command_refuses_a_creator_who_is_not_platform_staff(alice):
    with pytest.raises(CommandError, match="--created-by"):
        call_command("create_platform_api_key", "X", role="admin", created_by=alice.email)
    assert not PlatformApiKey.objects.exists()


def test_the_command_refuses_an_expiry_in_the_past(staff):
    with pytest.raises(CommandError, match="--expires-at"):
        call_command(
            "create_platform_api_key",
            "X",
            role="admin",
            created_by=staff.email,
            expires_at="2001-01-01T00:00Z",
        )
    assert not PlatformApiKey.objects.exists()


def test_staff_add_a_platform_key_in_the_admin_and_see_the_secret_once(client, staff, site_a):
    client.force_login(staff)
    response = client.post(
        reverse("admin:cpms_platformapikey_add"),
        {"name": "Support", "role": "admin", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    key = PlatformApiKey.objects.get()
    assert key.created_by == staff and key.prefix.startswith("cpmsp_")
    shown = [str(m) for m in response.context["messages"]]
    secret = next(m.split(": ")[-1] for m in shown if key.prefix in m)
    assert apikeys.verify(secret, key)
    page = client.get(reverse("admin:cpms_platformapikey_change", args=[key.pk])).content.decode()
    assert secret not in page


def test_staff_revoke_platform_keys_from_the_admin(client, staff, platform_keys):
    client.force_login(staff)
    client.post(
        reverse("admin:cpms_platformapikey_changelist"),
        {
            "action": "revoke",
            "_selected_action": list(PlatformApiKey.objects.values_list("pk", flat=True)),
        },
    )
    assert not PlatformApiKey.objects.filter(revoked_at__isnull=True).exists()


def test_a_tenant_admin_with_staff_access_cannot_see_platform_keys(client, alice, platform_keys):
    client.force_login(alice)
    assert client.get(reverse("admin:cpms_platformapikey_changelist")).status_code == 403
    key = PlatformApiKey.objects.first()
    assert client.get(reverse("admin:cpms_platformapikey_change", args=[key.pk])).status_code == 403
