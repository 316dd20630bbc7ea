"""API keys and the API's door: what a key is, what it may do, and how browsers get in."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from chargers.models import IdToken
from cpms.models import ApiKey, ApiKeyRole, Site
from cpms.tenancy import scoping
from tests.factories import make_key


def test_it_creates_a_key_whose_secret_is_shown_once_and_stored_hashed(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:api-key-list"), {"name": "CI", "role": "operator"}, format="json"
    )
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert secret.startswith(response.json()["prefix"] + "_")
    with scoping.scope(tenant_a):
        key = ApiKey.objects.get(pk=response.json()["id"])
    assert secret not in key.secret_hash
    listed = api(keys[ApiKeyRole.ADMIN]).get(reverse("api:api-key-list")).json()["results"]
    assert all("secret" not in row for row in listed)
    assert api(secret).get(reverse("api:site-list")).status_code == 200


def test_a_revoked_key_stops_working_at_once(api, keys, tenant_a):
    with scoping.scope(tenant_a):
        key = ApiKey.objects.get(role=ApiKeyRole.READ_ONLY)
    admin = api(keys[ApiKeyRole.ADMIN])
    assert admin.post(reverse("api:api-key-revoke", kwargs={"pk": key.pk})).status_code == 200
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:site-list"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_expired_key_is_refused(api, tenant_a, alice):
    secret = make_key(tenant_a, ApiKeyRole.ADMIN, alice)
    with scoping.scope(tenant_a):
        ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(secret).get(reverse("api:site-list")).status_code == 401


def test_a_key_with_a_wrong_secret_is_refused(api, keys):
    forged = keys[ApiKeyRole.ADMIN][:-4] + "abcd"
    assert api(forged).get(reverse("api:site-list")).status_code == 401


def test_it_refuses_an_expiry_in_the_past_naming_the_field(api, keys):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:api-key-list"),
        {"name": "Old", "role": "admin", "expires_at": "2001-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["expires_at"]


def test_a_read_only_key_cannot_write(api, keys, tenant_a, site_a):
    client = api(keys[ApiKeyRole.READ_ONLY])
    response = client.patch(
        reverse("api:site-detail", kwargs={"pk": site_a.pk}), {"name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("api:id-token-list"), {"uid": "X1"}, format="json").status_code == 403
    )
    with scoping.scope(tenant_a):
        assert Site.objects.get().name == "Mall A"
        assert not IdToken.objects.exists()


def test_it_records_when_a_key_was_last_used(api, keys, tenant_a):
    api(keys[ApiKeyRole.OPERATOR]).get(reverse("api:site-list"))
    with scoping.scope(tenant_a):
        assert ApiKey.objects.get(role=ApiKeyRole.OPERATOR).last_used_at is not None


def test_a_browser_session_names_its_tenant_with_a_header(client, alice, site_a):
    client.force_login(alice)
    response = client.get(reverse("api:site-list"), HTTP_X_TENANT="tenant-a")
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Mall A"]


def test_a_browser_session_gets_404_for_a_tenant_it_does_not_belong_to(client, charlie, site_a):
    client.force_login(charlie)
    response = client.get(reverse("api:site-list"), HTTP_X_TENANT="tenant-a")
    assert response.status_code == 404


def test_a_portal_member_gets_no_api_access(client, paula, site_a):
    client.force_login(paula)
    assert client.get(reverse("api:site-list"), HTTP_X_TENANT="tenant-a").status_code == 403


def test_a_browser_session_must_send_the_csrf_token_to_write(alice, site_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("api:site-list"),
        {"name": "New", "timezone": "UTC"},
        content_type="application/json",
        HTTP_X_TENANT="tenant-a",
    )
    assert response.status_code == 403
