"""The tenant's charger settings through the API and the dashboard, as chargers then meet them:
the heartbeat interval in the boot reply, onboarding opened (a password shown once that admits
an unknown charger as Pending) and closed again, and bad values refused with nothing changed."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from chargers.models import Charger, RegistrationStatus
from cpms.models import ApiKeyRole, Tenant
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import basic, connected, refused_status

pytestmark = pytest.mark.django_db(transaction=True)


def settings_of(tenant):
    row = Tenant.objects.get(pk=tenant.pk)
    return (
        row.heartbeat_interval,
        row.offline_after_heartbeats,
        row.settings,
        row.accept_unknown_chargers,
        row.onboarding_password_hash,
    )


@sync_to_async
def api_call(api, keys, method, name, body=None):
    client = api(keys[ApiKeyRole.ADMIN])
    return getattr(client, method)(reverse(f"api:{name}"), body, format="json")


async def test_onboarding_opened_through_the_api_admits_an_unknown_charger_until_closed(
    ocpp_server, tenant_a, api, keys
):
    opened = await api_call(api, keys, "post", "charger-settings-onboarding", {})
    assert opened.status_code == 201
    password = opened.json()["password"]
    async with connected(ocpp_server, "tenant-a", "NEW-1", password) as charger:
        assert (await charger.boot()).status == "Pending"
    with scoping.scope(tenant_a):
        new = await sync_to_async(Charger.objects.get)(identity="NEW-1")
    assert new.registration_status == RegistrationStatus.PENDING

    shown = await api_call(api, keys, "get", "charger-settings")
    assert shown.json()["onboarding_open"] is True
    closed = await api_call(api, keys, "delete", "charger-settings-onboarding")
    assert closed.status_code == 204
    refused = await refused_status(ocpp_server, "tenant-a", "NEW-2", basic("NEW-2", password))
    assert refused == 401
    # The charger it admitted keeps the password it came with.
    async with connected(ocpp_server, "tenant-a", "NEW-1", password) as charger:
        assert (await charger.boot()).status == "Pending"


async def test_a_new_onboarding_password_retires_the_previous_one(ocpp_server, tenant_a, api, keys):
    first = (await api_call(api, keys, "post", "charger-settings-onboarding", {})).json()
    chosen = {"password": "depot-onboarding-2026"}
    second = await api_call(api, keys, "post", "charger-settings-onboarding", chosen)
    assert second.json() == chosen
    refused = await refused_status(
        ocpp_server, "tenant-a", "NEW-1", basic("NEW-1", first["password"])
    )
    assert refused == 401
    async with connected(ocpp_server, "tenant-a", "NEW-1", chosen["password"]) as charger:
        assert (await charger.boot()).status == "Pending"


async def test_the_heartbeat_interval_reaches_chargers_at_their_next_boot(
    ocpp_server, tenant_a, charger, api, keys
):
    changed = await api_call(api, keys, "patch", "charger-settings", {"heartbeat_interval": 45})
    assert changed.status_code == 200
    assert changed.json()["heartbeat_interval"] == 45
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        assert (await cp.boot()).interval == 45


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"heartbeat_interval": 5}, "heartbeat_interval"),
        ({"heartbeat_interval": "often"}, "heartbeat_interval"),
        ({"offline_after_heartbeats": 1}, "offline_after_heartbeats"),
        ({"version_change": "ignore"}, "version_change"),
        ({"close_sessions_after_hours": -1}, "close_sessions_after_hours"),
        ({"close_sessions_after_hours": 9000}, "close_sessions_after_hours"),
        ({"close_sessions_after_hours": "soon"}, "close_sessions_after_hours"),
    ],
)
def test_bad_settings_name_the_field_and_change_nothing(api, keys, tenant_a, body, field):
    before = settings_of(tenant_a)
    response = api(keys[ApiKeyRole.ADMIN]).patch(
        reverse("api:charger-settings"), body, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert settings_of(tenant_a) == before


def test_a_bad_onboarding_password_names_the_field_and_opens_nothing(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:charger-settings-onboarding"), {"password": "short"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["password"]
    assert settings_of(tenant_a)[3:] == (False, "")


def test_the_page_shows_the_onboarding_password_once_and_saves_settings(client_for, alice):
    client = client_for(alice)
    url = reverse("fleet_settings", kwargs={"tenant_slug": "tenant-a"})
    response = client.post(url, {"action": "open", "password": ""})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "shown this once" in page and "Replace the onboarding password" in page
    assert "shown this once" not in client.get(url).content.decode()

    response = client.post(
        url,
        {
            "action": "settings",
            "heartbeat_interval": "20",
            "offline_after_heartbeats": "3",
            "version_change": "refuse",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Ensure this value is greater than or equal to 30." in response.content.decode()
    response = client.post(
        url,
        {
            "action": "settings",
            "heartbeat_interval": "120",
            "offline_after_heartbeats": "4",
            "version_change": "refuse",
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="tenant-a")
    assert (tenant.heartbeat_interval, tenant.offline_after_heartbeats) == (120, 4)
    assert tenant.settings["ocpp_version_change"] == "refuse"

    client.post(url, {"action": "close"})
    tenant.refresh_from_db()
    assert (tenant.accept_unknown_chargers, tenant.onboarding_password_hash) == (False, "")
