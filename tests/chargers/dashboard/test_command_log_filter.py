"""A charger's command log filtered: smart charging's profiles, sent over and over, would bury
every other command; the page and the API leave them out, or show one action only."""

import pytest
from django.urls import reverse

from chargers.models import Charger, Command
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping


@pytest.fixture
def logged(tenant_a, site_a):
    """A charger whose log is 25 profiles with a Reset and a firmware update among them."""
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-LOG", site=site_a)
        Command.objects.create(charger=charger, action="Reset", payload={"type": "Soft"})
        Command.objects.create(charger=charger, action="UpdateFirmware", payload={})
        Command.objects.bulk_create(
            Command(charger=charger, action="SetChargingProfile", payload={}) for _ in range(25)
        )
        Command.objects.create(charger=charger, action="ClearChargingProfile", payload={})
    return charger


def actions_shown(client, charger, **query):
    url = reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})
    response = client.get(url, query)
    assert response.status_code == 200
    return response.context["commands"], response.content.decode()


def test_the_latest_commands_are_profiles_unless_they_are_hidden(client_for, bob, logged):
    shown, _ = actions_shown(client_for(bob), logged)
    assert {c.action for c in shown} == {"SetChargingProfile", "ClearChargingProfile"}

    shown, page = actions_shown(client_for(bob), logged, hide_profiles="1")

    assert sorted(c.action for c in shown) == ["Reset", "UpdateFirmware"]
    assert 'name="hide_profiles" value="1" checked' in page


def test_the_log_shows_one_action_when_asked(client_for, bob, logged):
    shown, page = actions_shown(client_for(bob), logged, action="Reset")
    assert [c.action for c in shown] == ["Reset"]
    assert '<option value="Reset" selected>' in page


def test_an_action_the_charger_never_got_shows_an_empty_filtered_log(client_for, bob, logged):
    shown, page = actions_shown(client_for(bob), logged, action="Nonsense")
    assert shown == [] and "No command matches the filter." in page


def test_charlie_cannot_read_the_filtered_log(client_for, charlie, logged):
    url = reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": logged.pk})
    assert client_for(charlie).get(url, {"hide_profiles": "1"}).status_code == 404


def test_the_api_leaves_actions_out_by_name(api, keys, logged):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:command-list"),
        {"charger": logged.pk, "exclude_action": "SetChargingProfile,ClearChargingProfile"},
    )
    assert response.status_code == 200
    assert sorted(c["action"] for c in response.json()["results"]) == ["Reset", "UpdateFirmware"]


def test_the_api_shows_charlie_none_of_the_log(api, keys, logged):
    response = api(keys["charlie"]).get(
        reverse("api:command-list"), {"exclude_action": "SetChargingProfile"}
    )
    assert response.json()["results"] == []
