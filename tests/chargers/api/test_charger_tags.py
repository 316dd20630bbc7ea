"""Integrators tag chargers through the API, filter and export by tag; the audit log records it."""

import csv
import io

import pytest
from django.urls import reverse

from chargers.models import Charger
from cpms.audit.models import AuditEntry
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping


def stored_tags(charger):
    with scoping.unscoped():
        return Charger.objects.values_list("tags", flat=True).get(pk=charger.pk)


@pytest.fixture
def url(world):
    return reverse("api:charger-detail", args=[world["charger"].pk])


def test_an_admin_key_sets_a_chargers_tags_and_the_change_is_recorded(
    api, keys, world, url, tenant_a
):
    response = api(keys[ApiKeyRole.ADMIN]).patch(
        url, {"tags": ["Depot", "beta-firmware", "depot"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["depot", "beta-firmware"]
    assert stored_tags(world["charger"]) == ["depot", "beta-firmware"]
    with scoping.scope(tenant_a):
        changes = list(
            AuditEntry.objects.filter(object_type="charger", object_id=str(world["charger"].pk))
            .order_by("id")
            .values_list("action", "changes")
        )
    # The world fixture placed the charger at its site first.
    assert changes[-1] == (
        "update",
        {"tags": {"before": [], "after": ["depot", "beta-firmware"]}},
    )


@pytest.mark.parametrize(
    "tags", [["no spaces"], ["x" * 41], "depot", [f"t{n}" for n in range(21)], [None]]
)
def test_bad_tags_are_refused_naming_tags_and_change_nothing(api, keys, world, url, tags):
    with scoping.unscoped():
        Charger.objects.filter(pk=world["charger"].pk).update(tags=["kept"])
    response = api(keys[ApiKeyRole.ADMIN]).patch(url, {"tags": tags}, format="json")
    assert response.status_code == 400
    # A bad element is named with its place: tags.0.
    assert [name.split(".")[0] for name in response.json()["error"]["fields"]] == ["tags"]
    assert stored_tags(world["charger"]) == ["kept"]


@pytest.mark.parametrize("role", [ApiKeyRole.OPERATOR, ApiKeyRole.READ_ONLY])
def test_keys_below_admin_cannot_set_tags(api, keys, world, url, role):
    response = api(keys[role]).patch(url, {"tags": ["depot"]}, format="json")
    assert response.status_code == 403
    assert stored_tags(world["charger"]) == []


def test_charlie_cannot_tag_a_tenant_a_charger(api, keys, world, url):
    response = api(keys["charlie"]).patch(url, {"tags": ["depot"]}, format="json")
    assert response.status_code == 404
    assert stored_tags(world["charger"]) == []


def test_a_charger_is_created_with_tags(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:charger-list"), {"identity": "TAGGED-1", "tags": ["depot"]}, format="json"
    )
    assert response.status_code == 201 and response.json()["tags"] == ["depot"]


@pytest.fixture
def tagged_fleet(tenant_a, tenant_b, world):
    with scoping.scope(tenant_a):
        Charger.objects.create(identity="CP-DEPOT", tags=["depot", "north"])
        Charger.objects.create(identity="CP-NORTH", tags=["north"])
    with scoping.scope(tenant_b):
        Charger.objects.create(identity="CP-B-DEPOT", tags=["depot"])


def test_the_list_filters_by_tag_within_the_tenant(api, keys, tagged_fleet):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:charger-list"), {"tag": "depot"})
    assert response.status_code == 200
    assert [c["identity"] for c in response.json()["results"]] == ["CP-DEPOT"]


def test_a_bad_tag_filter_is_a_400_naming_it(api, keys, tagged_fleet):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:charger-list"), {"tag": "N O"})
    assert response.status_code == 400
    assert "tag" in response.json()["error"]["fields"]


def test_the_export_carries_the_tags_and_follows_the_tag_filter(api, keys, tagged_fleet):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:charger-export"), {"tag": "north", "format": "csv"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["identity"], r["tags"]) for r in rows] == [
        ("CP-DEPOT", "depot north"),
        ("CP-NORTH", "north"),
    ]
