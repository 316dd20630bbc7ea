"""Charger tags: the one rule for a tag, and the filter every door uses (on PostgreSQL's JSON
containment, and the text match SQLite falls back to)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from chargers.models import Charger
from chargers.tags import clean_tags, split, tagged, tagged_any
from cpms.tenancy import scoping


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ([], []),
        (["depot"], ["depot"]),
        ([" Depot ", "beta_firmware", "depot"], ["depot", "beta_firmware"]),
        (["a" * 40, "x-1"], ["a" * 40, "x-1"]),
    ],
)
def test_tags_are_stored_trimmed_lowercase_and_once(given, stored):
    assert clean_tags(given) == stored


@pytest.mark.parametrize(
    "given",
    [[""], ["two words"], ["-leading"], ["a" * 41], ["dépôt"], ['quo"te'], [7]],
)
def test_a_tag_outside_the_rule_is_refused_naming_it(given):
    with pytest.raises(ValidationError) as refused:
        clean_tags(given)
    assert "is not a tag" in refused.value.messages[0]


def test_more_than_twenty_tags_are_refused():
    with pytest.raises(ValidationError, match="At most 20 tags"):
        clean_tags([f"t{n}" for n in range(21)])


def test_typed_tags_split_on_commas_and_spaces():
    assert split(" depot, beta-firmware  north ,") == ["depot", "beta-firmware", "north"]


@pytest.fixture
def fleet(tenant_a):
    with scoping.scope(tenant_a):
        Charger.objects.create(identity="T-1", tags=["depot", "beta"])
        Charger.objects.create(identity="T-2", tags=["depot-north"])
        Charger.objects.create(identity="T-3", tags=[])
    return tenant_a


def _identities(tenant, condition):
    with scoping.scope(tenant):
        return sorted(Charger.objects.filter(condition).values_list("identity", flat=True))


@pytest.mark.parametrize("containment", [True, False], ids=["postgresql", "sqlite-fallback"])
def test_the_filter_matches_whole_tags_only(fleet, monkeypatch, containment):
    if containment and not connection.features.supports_json_field_contains:
        pytest.skip("JSON containment is PostgreSQL's; SQLite has only the fallback")
    monkeypatch.setattr(connection.features, "supports_json_field_contains", containment)
    assert _identities(fleet, tagged("depot")) == ["T-1"]
    assert _identities(fleet, tagged("dep")) == []
    assert _identities(fleet, tagged("depot-north")) == ["T-2"]
    assert _identities(fleet, tagged_any(["beta", "depot-north"])) == ["T-1", "T-2"]
