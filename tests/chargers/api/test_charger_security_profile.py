"""Integrators set a charger's OCPP security profile and pin its certificate through the API."""

import pytest
from django.urls import reverse

from chargers.models import Charger, SecurityProfile
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping

PIN = "sha256 Fingerprint=" + ":".join(["0F"] * 32)


def stored(charger):
    with scoping.unscoped():
        return Charger.objects.values_list("security_profile", "certificate_fingerprint").get(
            pk=charger.pk
        )


def test_it_moves_a_charger_to_profile_3_with_a_pinned_certificate(api, keys, world):
    url = reverse("api:charger-detail", args=[world["charger"].pk])
    response = api(keys[ApiKeyRole.ADMIN]).patch(
        url, {"security_profile": 3, "certificate_fingerprint": PIN}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["security_profile"] == 3
    assert response.json()["certificate_fingerprint"] == "0f" * 32
    assert stored(world["charger"]) == (SecurityProfile.CERTIFICATE, "0f" * 32)


def test_it_creates_a_profile_3_charger(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:charger-list"), {"identity": "TLS-1", "security_profile": 3}, format="json"
    )
    assert response.status_code == 201 and response.json()["security_profile"] == 3


@pytest.mark.parametrize(
    "body,field",
    [
        ({"certificate_fingerprint": "abc"}, "certificate_fingerprint"),
        ({"security_profile": 2}, "security_profile"),
    ],
)
def test_it_refuses_a_bad_profile_or_fingerprint_naming_the_field(api, keys, world, body, field):
    before = stored(world["charger"])
    url = reverse("api:charger-detail", args=[world["charger"].pk])
    response = api(keys[ApiKeyRole.ADMIN]).patch(url, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert stored(world["charger"]) == before


def test_an_operator_key_cannot_change_the_security_profile(api, keys, world):
    url = reverse("api:charger-detail", args=[world["charger"].pk])
    response = api(keys[ApiKeyRole.OPERATOR]).patch(url, {"security_profile": 3}, format="json")
    assert response.status_code == 403
    assert stored(world["charger"])[0] == SecurityProfile.PASSWORD


def test_charlie_cannot_change_tenant_a_chargers_profile(api, keys, world):
    url = reverse("api:charger-detail", args=[world["charger"].pk])
    response = api(keys["charlie"]).patch(url, {"security_profile": 3}, format="json")
    assert response.status_code == 404
    assert stored(world["charger"])[0] == SecurityProfile.PASSWORD
