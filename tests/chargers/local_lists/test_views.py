"""The local list pages: the policy set by an admin (a bad choice shown beside its field),
a charger's list with its entries, "sync now" for operators only, nothing for charlie."""

import pytest
from django.urls import reverse

from chargers.local_lists.models import ChargerLocalList, LocalListPolicy, PolicyMode
from chargers.models import Charger
from cpms.tenancy import scoping


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return Charger.objects.create(identity="CP-A", site=site_a, ocpp_version="2.0.1")


def settings_url():
    return reverse("local_list_settings", kwargs={"tenant_slug": "tenant-a"})


def test_an_admin_gives_a_site_only_the_fleets_cards(client_for, alice, tenant_a, site_a, tokens):
    response = client_for(alice).post(
        settings_url(), {"site": site_a.pk, "mode": "groups", "groups": [tokens["fleet"].pk]}
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        policy = LocalListPolicy.objects.get(site=site_a)
        assert policy.mode == PolicyMode.GROUPS
        assert list(policy.groups.all()) == [tokens["fleet"]]


def test_groups_mode_without_a_group_is_shown_beside_the_field(client_for, alice, tenant_a):
    response = client_for(alice).post(settings_url(), {"mode": "groups"})

    assert response.status_code == 200
    assert "groups" in response.context["form"].errors
    with scoping.scope(tenant_a):
        assert not LocalListPolicy.objects.exists()


def test_a_viewer_reads_the_policy_but_cannot_change_it(client_for, bob, tenant_a, policy):
    client = client_for(bob)

    assert client.get(settings_url()).status_code == 200
    assert client.post(settings_url(), {"mode": "none"}).status_code == 403
    with scoping.scope(tenant_a):
        assert LocalListPolicy.objects.get().mode == PolicyMode.ALL


def test_the_charger_page_shows_the_list_it_confirmed(client_for, bob, tenant_a, charger, policy):
    with scoping.scope(tenant_a):
        ChargerLocalList.objects.create(
            charger=charger,
            supported=True,
            version=2,
            reported_version=2,
            entries={"04A1": ["ISO14443", "Blocked", "", "FLEET-1", "Central"]},
        )
    url = reverse("charger_local_list", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})

    response = client_for(bob).get(url)

    assert response.status_code == 200
    assert b'data-entry="04A1"' in response.content
    assert b"Blocked" in response.content and b"Sync now" not in response.content
    detail = reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})
    assert b"data-local-list" in client_for(bob).get(detail).content


def test_an_operator_syncs_a_charger_now(client_for, olga, tenant_a, charger, policy):
    url = reverse("charger_local_list", kwargs={"tenant_slug": "tenant-a", "pk": charger.pk})

    response = client_for(olga).post(url)

    assert response.status_code == 302


def test_charlie_gets_404_for_a_tenant_a_charger_under_his_own_slug(client_for, charlie, charger):
    url = reverse("charger_local_list", kwargs={"tenant_slug": "tenant-b", "pk": charger.pk})

    assert client_for(charlie).get(url).status_code == 404
    assert client_for(charlie).post(url).status_code == 404


def test_the_settings_page_names_the_chargers_out_of_sync(
    client_for, bob, tenant_a, charger, policy
):
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True)

    response = client_for(bob).get(settings_url())

    assert response.status_code == 200
    assert b"1 connected charger out of sync" in response.content
    assert b">CP-A</a>" in response.content
