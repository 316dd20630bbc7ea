"""The certificates API beyond the route matrix (tests/cpms/api/test_routes.py): the CA's
import, bad input named by field, and what a stranger's ids get."""

import pytest
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import CertificateAuthority, CertificateOperation
from chargers.models import Command
from cpms.tenancy import scoping

URL = "/api/v1/"


@pytest.fixture
def admin(api, keys):
    return api(keys["admin"])


def sub_ca_pems(name="Acme"):
    made = crypto.new_authority(organization=name, now=timezone.now())
    key = made.sub_ca_key.private_bytes(
        crypto.serialization.Encoding.PEM,
        crypto.serialization.PrivateFormat.PKCS8,
        crypto.serialization.NoEncryption(),
    ).decode()
    return crypto.pem_of(made.sub_ca) + crypto.pem_of(made.root), key


def test_an_admin_imports_a_sub_ca_which_signs_from_then_on(admin, tenant_a):
    certificate, key = sub_ca_pems()

    response = admin.post(
        URL + "certificate-authority/import/",
        {"certificate": certificate, "key": key},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "imported"
    assert "key" not in body and "key_encrypted" not in body
    with scoping.scope(tenant_a):
        authority = CertificateAuthority.objects.get(active=True)
    assert authority.subject == "CN=Acme CPO Sub-CA,O=Acme"
    assert "PRIVATE KEY" not in authority.key_encrypted
    assert admin.get(URL + "certificate-authority/").json()["id"] == authority.pk


def test_an_import_whose_key_is_not_the_certificates_is_refused(admin, tenant_a):
    certificate, _ = sub_ca_pems()
    _, other_key = sub_ca_pems("Other")

    response = admin.post(
        URL + "certificate-authority/import/",
        {"certificate": certificate, "key": other_key},
        format="json",
    )

    assert response.status_code == 400
    assert "the key does not belong to the certificate" in str(response.json())
    with scoping.scope(tenant_a):
        assert not CertificateAuthority.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"certificate": "nope", "key": "nope"}, "certificate"),
        ({"certificate": "x"}, "key"),
    ],
)
def test_a_bad_import_names_the_field(admin, body, field):
    response = admin.post(URL + "certificate-authority/import/", body, format="json")

    assert response.status_code == 400
    assert field in str(response.json())


def test_a_renewal_window_out_of_range_is_refused(admin):
    response = admin.patch(URL + "certificate-settings/", {"renew_days": 0}, format="json")

    assert response.status_code == 400
    assert "renew_days" in str(response.json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "install", "chargers": [], "root_kind": "csms_root"}, "chargers"),
        ({"kind": "install", "root_kind": "csms_root"}, "chargers"),
        ({"kind": "delete"}, "chargers"),
        ({"kind": "shred"}, "kind"),
    ],
)
def test_a_bad_operation_is_refused_naming_the_field(api, keys, world, tenant_a, body, field):
    response = api(keys["operator"]).post(URL + "certificate-operations/", body, format="json")

    assert response.status_code == 400
    assert field in str(response.json())
    with scoping.scope(tenant_a):
        assert CertificateOperation.objects.count() == 1  # the world's own


def test_an_install_without_a_certificate_names_it(api, keys, world):
    body = {"kind": "install", "chargers": [world["charger"].pk], "root_kind": "csms_root"}

    response = api(keys["operator"]).post(URL + "certificate-operations/", body, format="json")

    assert response.status_code == 400
    assert "certificate" in str(response.json())


@pytest.mark.django_db(transaction=True)
def test_charlie_cannot_rotate_or_operate_on_tenant_as_chargers(api, keys, world, tenant_a):
    charlie = api(keys["charlie"])
    charger = world["charger"].pk

    rotation = charlie.post(URL + "certificate-rotations/", {"charger": charger}, format="json")
    operation = charlie.post(
        URL + "certificate-operations/",
        {"kind": "list", "chargers": [charger]},
        format="json",
    )

    assert rotation.status_code == operation.status_code == 400
    assert "does not exist" in str(rotation.json())
    with scoping.scope(tenant_a):
        assert not Command.objects.filter(source="certificates").exists()


@pytest.mark.django_db(transaction=True)
def test_an_offline_chargers_rotation_is_known_at_once(api, keys, world):
    response = api(keys["operator"]).post(
        URL + "certificate-rotations/", {"charger": world["charger"].pk}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["status"] == "offline"
