"""The certificate pages beyond the role matrix (tests/cpms/test_pages.py): the charger page
shows its certificate and expiry, an operator rotates it, an admin creates or imports the CA."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.certificates.models import CertificateAuthority, CertificateSettings
from chargers.models import Command
from cpms.catalogs import compile_catalogs
from cpms.models import User
from cpms.tenancy import scoping


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def day_shown(moment, world) -> str:
    """The day a page shows for `moment`: in the tenant's zone, which may differ from UTC's."""
    zone = ZoneInfo(world["charger"].tenant.timezone)
    return f"{timezone.localtime(moment, zone):%Y-%m-%d}"


def test_the_charger_page_shows_its_certificate_and_expiry(client_for, bob, world):
    issued = world["issued_certificate"]

    content = client_for(bob).get(page("charger_detail", pk=world["charger"].pk)).content.decode()

    assert issued.serial in content
    assert day_shown(issued.not_after, world) in content


def test_the_certificates_page_lists_issued_certificates_and_roots(client_for, bob, world):
    content = (
        client_for(bob).get(page("charger_certificates", pk=world["charger"].pk)).content.decode()
    )

    assert world["issued_certificate"].fingerprint[:17] in content
    assert world["installed_certificate"].serial_number in content
    assert "Rotate certificate" not in content  # a viewer reads


@pytest.mark.django_db(transaction=True)
def test_an_operator_rotates_a_chargers_certificate(client_for, olga, world, tenant_a):
    response = client_for(olga).post(
        page("charger_certificates", pk=world["charger"].pk), {"action": "rotate"}
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        command = Command.objects.get(source="certificates")
    # CP-A speaks 1.6: the security extension's trigger.
    assert command.action == "ExtendedTriggerMessage"
    assert command.payload == {"requestedMessage": "SignChargePointCertificate"}


def test_a_viewer_cannot_rotate(client_for, bob, world, tenant_a):
    response = client_for(bob).post(
        page("charger_certificates", pk=world["charger"].pk), {"action": "rotate"}
    )

    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not Command.objects.filter(source="certificates").exists()


def test_an_admin_creates_a_new_ca(client_for, alice, world, tenant_a):
    before = world["issued_certificate"].authority_id

    response = client_for(alice).post(page("certificate_authority_edit"), {"create": "1"})

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        active = CertificateAuthority.objects.get(active=True)
        assert CertificateAuthority.objects.count() == 2
    assert active.pk != before


def test_a_bad_import_is_a_form_error(client_for, alice, tenant_a):
    response = client_for(alice).post(
        page("certificate_authority_edit"), {"certificate": "nope", "key": "nope"}
    )

    assert response.status_code == 200
    assert "Not a PEM certificate." in response.content.decode()
    with scoping.scope(tenant_a):
        assert not CertificateAuthority.objects.exists()


def test_an_admin_sets_the_policy(client_for, alice, tenant_a):
    response = client_for(alice).post(
        page("certificate_settings"), {"renew_days": "14", "pin_issued": "on"}
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        settings = CertificateSettings.objects.get()
    assert (settings.renew_days, settings.pin_issued) == (14, True)


def test_a_fleet_operation_without_chargers_changes_nothing(client_for, olga, world, tenant_a):
    response = client_for(olga).post(
        page("certificate_fleet_operation"), {"kind": "list"}, follow=True
    )

    assert "Choose chargers or a site with chargers." in response.content.decode()
    with scoping.scope(tenant_a):
        assert not Command.objects.filter(source="certificates").exists()


def test_a_german_user_reads_the_certificate_pages_in_german(client_for, alice, world):
    compile_catalogs()
    User.objects.filter(pk=alice.pk).update(language="de")
    issued = world["issued_certificate"]
    client = client_for(alice)

    overview = client.get(page("certificate_overview")).content.decode()
    charger = client.get(page("charger_certificates", pk=world["charger"].pk)).content.decode()

    assert "Zertifizierungsstelle" in overview
    assert "Letzte Operationen" in overview
    assert "Root-Zertifikate" in charger
    assert f"Seriennummer <code>{issued.serial}</code>" in charger
    assert f"gültig bis <strong>{day_shown(issued.not_after, world)}</strong>" in charger
    assert "Recent operations" not in overview
