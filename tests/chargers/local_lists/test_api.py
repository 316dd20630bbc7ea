"""Local lists in the REST API: policies set with the field named when refused, a charger's
list read, "sync now" answered 202 with the URL to poll, viewers changing nothing and charlie
(tenant B) reaching nothing of tenant A."""

import pytest
from django.urls import reverse

from chargers.local_lists.models import ChargerLocalList, LocalListPolicy, PolicyMode
from chargers.local_lists.services import sync
from chargers.models import Charger
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping


@pytest.fixture
def admin(api, keys):
    return api(keys[ApiKeyRole.ADMIN])


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return Charger.objects.create(identity="CP-A", site=site_a, ocpp_version="1.6")


def policies_of(tenant):
    with scoping.scope(tenant):
        return list(LocalListPolicy.objects.values_list("mode", flat=True))


def test_an_admin_turns_the_tenants_policy_on_for_chosen_groups(admin, tenant_a, tokens):
    response = admin.post(
        reverse("api:local-list-policy-list"),
        {"mode": "groups", "groups": [tokens["fleet"].pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mode"] == "groups" and body["site"] is None and body["charger"] is None
    assert body["groups"] == [tokens["fleet"].pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "sometimes"}, "mode"),
        ({"mode": "groups"}, "groups"),
        ({"mode": "all", "site": 999999}, "site"),
        ({"mode": "all", "groups": [999999]}, "groups"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(admin, tenant_a, body, field):
    response = admin.post(reverse("api:local-list-policy-list"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert policies_of(tenant_a) == []


def test_a_policy_for_both_a_site_and_a_charger_is_refused(admin, tenant_a, site_a, charger):
    response = admin.post(
        reverse("api:local-list-policy-list"),
        {"mode": "all", "site": site_a.pk, "charger": charger.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "charger" in response.json()["error"]["fields"]


def test_a_second_policy_for_the_same_scope_is_refused(admin, tenant_a, policy):
    response = admin.post(reverse("api:local-list-policy-list"), {"mode": "none"}, format="json")

    assert response.status_code == 400
    assert "site" in response.json()["error"]["fields"]
    assert policies_of(tenant_a) == [PolicyMode.ALL]


def test_a_policys_scope_cannot_be_moved(admin, tenant_a, site_a, policy):
    response = admin.patch(
        reverse("api:local-list-policy-detail", kwargs={"pk": policy.pk}),
        {"site": site_a.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "site" in response.json()["error"]["fields"]


def test_charlie_cannot_name_tenant_a_groups_in_his_policy(api, keys, tenant_b, tokens):
    response = api(keys["charlie"]).post(
        reverse("api:local-list-policy-list"),
        {"mode": "groups", "groups": [tokens["fleet"].pk]},
        format="json",
    )

    assert response.status_code == 400
    assert "groups" in response.json()["error"]["fields"]
    assert policies_of(tenant_b) == []


def test_a_chargers_list_shows_what_it_confirmed_and_whether_it_is_in_sync(
    api, keys, tenant_a, charger, policy
):
    with scoping.scope(tenant_a):
        ChargerLocalList.objects.create(
            charger=charger,
            supported=True,
            version=3,
            reported_version=3,
            needs_full=False,
            entries={"04B1": ["ISO14443", "Accepted", "", "", ""]},
            entries_hash="stale",
        )

    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:local-list-detail", kwargs={"pk": charger.pk})
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["entry_count"], body["desired_entries"]) == (3, 1, 4)
    assert body["in_sync"] is False and body["managed"] is True
    assert body["entries"] == [
        {"uid": "04B1", "type": "ISO14443", "status": "Accepted", "expires_at": "", "group": ""}
    ]


def test_sync_now_is_accepted_with_the_list_to_poll(api, keys, tenant_a, charger, policy):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        reverse("api:local-list-sync", kwargs={"pk": charger.pk})
    )

    assert response.status_code == 202
    poll = reverse("api:local-list-detail", kwargs={"pk": charger.pk})
    assert response["Location"] == poll == response.json()["poll"]


def test_a_fleet_sync_of_an_unknown_site_is_refused_naming_the_site(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        reverse("api:local-list-sync-fleet"), {"site": 999999}, format="json"
    )

    assert response.status_code == 400
    assert "site" in response.json()["error"]["fields"]


def test_a_viewer_cannot_sync_nor_change_the_policy(api, keys, tenant_a, charger, policy):
    viewer = api(keys[ApiKeyRole.READ_ONLY])

    synced = viewer.post(reverse("api:local-list-sync", kwargs={"pk": charger.pk}))
    changed = viewer.patch(
        reverse("api:local-list-policy-detail", kwargs={"pk": policy.pk}),
        {"mode": "off"},
        format="json",
    )

    assert synced.status_code == changed.status_code == 403
    assert policies_of(tenant_a) == [PolicyMode.ALL]


def test_charlie_gets_404_for_tenant_a_lists_and_policies(api, keys, charger, policy):
    charlie = api(keys["charlie"])

    assert (
        charlie.get(reverse("api:local-list-detail", kwargs={"pk": charger.pk})).status_code == 404
    )
    assert (
        charlie.post(reverse("api:local-list-sync", kwargs={"pk": charger.pk})).status_code == 404
    )
    detail = reverse("api:local-list-policy-detail", kwargs={"pk": policy.pk})
    assert charlie.get(detail).status_code == 404
    assert charlie.delete(detail).status_code == 404


# Sending a command crosses threads (the channel layer's client runs in asgiref's).
@pytest.mark.django_db(transaction=True)
def test_an_offline_charger_ends_its_sync_as_offline(tenant_a, charger, policy, eager):
    with scoping.scope(tenant_a):
        assert sync.local_list_refresh(charger_id=charger.pk)
        state = ChargerLocalList.objects.get(charger=charger)

    assert (state.step, state.last_outcome) == ("", "offline")


def test_the_chargers_due_a_sync_are_listed_on_request(api, keys, tenant_a, charger, policy):
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True)
        quiet = Charger.objects.create(identity="CP-QUIET")
    reader = api(keys[ApiKeyRole.READ_ONLY])

    due = reader.get(reverse("api:local-list-list"), {"due": "true"}).json()["results"]
    rest = reader.get(reverse("api:local-list-list"), {"due": "false"}).json()["results"]
    bad = reader.get(reverse("api:local-list-list"), {"due": "maybe"})

    assert [row["identity"] for row in due] == ["CP-A"]
    assert [row["identity"] for row in rest] == [quiet.identity]
    assert bad.status_code == 400 and "due" in bad.json()["error"]["fields"]
