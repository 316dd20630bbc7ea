"""Admins choose a charger's OCPP security profile on its credentials page."""

import pytest
from django.urls import reverse

from chargers.models import Charger, SecurityProfile
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet

PIN = ":".join(["AB"] * 32)


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return make_fleet(site_a)["charger"]


def stored(charger):
    with scoping.unscoped():
        return Charger.objects.values_list(
            "security_profile", "certificate_fingerprint", "password_hash"
        ).get(pk=charger.pk)


def test_an_admin_moves_a_charger_to_profile_3_and_pins_its_certificate(client, alice, charger):
    client.force_login(alice)
    password_hash = stored(charger)[2]
    response = client.post(
        page("charger_credentials", pk=charger.pk),
        {"security_profile": "3", "certificate_fingerprint": PIN},
        follow=True,
    )
    assert response.status_code == 200
    assert stored(charger) == (SecurityProfile.CERTIFICATE, "ab" * 32, password_hash)
    assert b"security profile saved" in response.content
    assert ("ab" * 32).encode() in response.content


def test_a_bad_fingerprint_is_refused_naming_the_field_and_changes_nothing(client, alice, charger):
    client.force_login(alice)
    before = stored(charger)
    response = client.post(
        page("charger_credentials", pk=charger.pk),
        {"security_profile": "3", "certificate_fingerprint": "not-a-fingerprint"},
    )
    assert response.status_code == 200
    assert (
        "64 hexadecimal digits"
        in response.context["profile_form"].errors["certificate_fingerprint"][0]
    )
    assert stored(charger) == before


def test_setting_a_password_leaves_the_security_profile_alone(client, alice, charger):
    client.force_login(alice)
    client.post(page("charger_credentials", pk=charger.pk), {"security_profile": "3"})
    client.post(page("charger_credentials", pk=charger.pk), {"password": "chosen-password-0042"})
    assert stored(charger)[0] == SecurityProfile.CERTIFICATE


def test_bob_cannot_change_the_security_profile(client, bob, charger):
    client.force_login(bob)
    response = client.post(page("charger_credentials", pk=charger.pk), {"security_profile": "3"})
    assert response.status_code in (403, 404)
    assert stored(charger)[0] == SecurityProfile.PASSWORD


def test_charlie_gets_404_for_the_credentials_page(client, charlie, charger):
    client.force_login(charlie)
    url = page("charger_credentials", pk=charger.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"security_profile": "3"}).status_code == 404
    assert stored(charger)[0] == SecurityProfile.PASSWORD
