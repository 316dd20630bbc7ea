"""Plug & Charge's pages and API beyond the matrices (tests/cpms/test_pages.py,
tests/cpms/api/test_routes.py): the provider's secret is sealed and never shown, bad input is
refused naming its field, revoking reaches OCSP, viewers see no buttons, strangers get 404."""

import pytest
from django.core.checks import Tags, run_checks
from django.urls import reverse

from chargers.certificates import v2g
from chargers.certificates.models import ContractCertificate, PlugAndChargeSettings, V2gAuthority
from chargers.certificates.services.contracts import ocsp_local
from chargers.models import IdToken, IdTokenType
from cpms.tenancy import scoping

URL = "/api/v1/"
SECRET = "s3cret-from-the-provider"


@pytest.fixture
def admin(api, keys):
    return api(keys["admin"])


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_the_providers_secret_is_sealed_and_never_shown(admin, tenant_a):
    response = admin.patch(
        URL + "plug-and-charge-settings/",
        {"provider": "remote", "remote_url": "https://pnc.example.com/", "remote_secret": SECRET},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["remote_secret_set"] is True
    assert SECRET not in response.content.decode()
    assert SECRET not in admin.get(URL + "plug-and-charge-settings/").content.decode()
    with scoping.scope(tenant_a):
        stored = PlugAndChargeSettings.objects.get()
    assert SECRET not in stored.remote_secret_sealed and stored.remote_secret_sealed
    # Sent back without a secret, the stored one is kept.
    admin.patch(URL + "plug-and-charge-settings/", {"remote_timeout": 15}, format="json")
    with scoping.scope(tenant_a):
        assert (
            PlugAndChargeSettings.objects.get().remote_secret_sealed == stored.remote_secret_sealed
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": "remote"}, "remote_url"),
        ({"remote_timeout": 60}, "remote_timeout"),
        ({"trusted_roots_pem": "not a certificate"}, "trusted_roots_pem"),
        ({"ocsp_mode": "sometimes"}, "ocsp_mode"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(admin, tenant_a, change, field):
    response = admin.patch(URL + "plug-and-charge-settings/", change, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not PlugAndChargeSettings.objects.exists()


def test_a_contract_issued_through_the_api_links_an_emaid_token(admin, tenant_a):
    response = admin.post(URL + "contract-certificates/", {"emaid": "DE-ABC-C12345678-9"})

    assert response.status_code == 201, response.content
    assert response.json()["state"] == "valid"
    with scoping.scope(tenant_a):
        token = IdToken.objects.get(uid="DE-ABC-C12345678-9")
    assert token.type == IdTokenType.EMAID and response.json()["id_token"] == token.pk


def test_an_operator_provisioned_token_wins(admin, tenant_a):
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="FLEET")
        mine = IdToken.objects.create(uid="DE-ABC-C12345678-9", label="Mine", group=group)

    response = admin.post(URL + "contract-certificates/", {"emaid": "de-abc-c12345678-9".upper()})

    assert response.json()["id_token"] == mine.pk
    with scoping.scope(tenant_a):
        assert IdToken.objects.get(pk=mine.pk).group_id == group.pk


def test_a_bad_emaid_is_refused_naming_the_field_and_nothing_is_issued(admin, tenant_a):
    response = admin.post(URL + "contract-certificates/", {"emaid": "not an emaid"})

    assert response.status_code == 400
    assert "emaid" in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not ContractCertificate.objects.exists()
        assert not IdToken.objects.exists()


def test_revoking_through_the_api_makes_ocsp_say_revoked(admin, tenant_a, world):
    contract = world["contract_certificate"]

    response = admin.post(URL + f"contract-certificates/{contract.pk}/revoke/")

    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    ident = v2g.OcspId(contract.issuer_name_hash, contract.issuer_key_hash, contract.serial)
    with scoping.scope(tenant_a):
        assert ocsp_local(ident).cert_status == "revoked"


def test_charlie_cannot_revoke_tenant_as_contract(api, keys, world, tenant_a):
    contract = world["contract_certificate"]

    response = api(keys["charlie"]).post(URL + f"contract-certificates/{contract.pk}/revoke/")

    assert response.status_code == 404
    with scoping.scope(tenant_a):
        assert ContractCertificate.objects.get(pk=contract.pk).revoked_at is None


def test_the_overview_lists_contracts_with_revoke_for_operators_only(client_for, olga, bob, world):
    contract = world["contract_certificate"]

    as_operator = client_for(olga).get(page("certificate_overview")).content.decode()
    as_viewer = client_for(bob).get(page("certificate_overview")).content.decode()

    assert contract.emaid in as_operator and contract.emaid in as_viewer
    revoke = page("contract_certificate_revoke", pk=contract.pk)
    assert revoke in as_operator and revoke not in as_viewer
    assert page("contract_certificate_issue") not in as_viewer


def test_an_operator_revokes_from_the_dashboard(client_for, olga, world, tenant_a):
    contract = world["contract_certificate"]

    response = client_for(olga).post(page("contract_certificate_revoke", pk=contract.pk))

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert ContractCertificate.objects.get(pk=contract.pk).state() == "revoked"


def test_the_settings_page_saves_and_never_shows_the_secret(client_for, alice, tenant_a):
    client = client_for(alice)
    form = {
        "provider": "remote",
        "remote_url": "https://pnc.example.com/",
        "remote_username": "cpo",
        "remote_secret": SECRET,
        "remote_timeout": 20,
        "ocsp_mode": "local",
    }

    response = client.post(page("certificate_pnc_settings"), form)
    shown = client.get(page("certificate_pnc_settings")).content.decode()

    assert response.status_code == 302
    assert SECRET not in shown and 'data-secret="set"' in shown
    with scoping.scope(tenant_a):
        assert PlugAndChargeSettings.objects.get().remote_username == "cpo"


def test_the_session_page_names_a_plug_and_charge_contract(client_for, bob, world, tenant_a):
    with scoping.scope(tenant_a):
        IdToken.objects.filter(pk=world["id_token"].pk).update(type=IdTokenType.EMAID)

    content = client_for(bob).get(page("session_detail", pk=world["session"].pk)).content.decode()

    assert 'data-field="contract"' in content


# --- The built-in test V2G PKI in production --------------------------------------------------


@pytest.mark.parametrize(
    ("debug", "test_pki", "warned"),
    [(False, True, True), (True, True, False), (False, False, False)],
)
def test_check_deploy_names_the_test_pki_on_in_production(settings, debug, test_pki, warned):
    settings.DEBUG, settings.PNC_TEST_PKI = debug, test_pki

    found = run_checks(include_deployment_checks=True, tags=[Tags.security])

    assert ("certificates.W001" in {message.id for message in found}) is warned


def test_the_test_pki_warning_is_a_deploy_check_only(settings):
    settings.DEBUG, settings.PNC_TEST_PKI = False, True

    assert "certificates.W001" not in {message.id for message in run_checks()}


@pytest.mark.parametrize(("debug", "warned"), [(False, True), (True, False)])
def test_the_settings_page_warns_of_the_test_pki_in_production(
    client_for, alice, settings, debug, warned
):
    settings.DEBUG, settings.PNC_TEST_PKI = debug, True

    shown = client_for(alice).get(page("certificate_pnc_settings")).content.decode()

    assert ('data-warning="test-pki"' in shown) is warned


def test_with_the_test_pki_off_nothing_is_issued_and_the_field_is_named(admin, tenant_a, settings):
    settings.PNC_TEST_PKI = False

    response = admin.post(URL + "contract-certificates/", {"emaid": "DE-ABC-C12345678-9"})

    assert response.status_code == 400
    assert "provider" in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not ContractCertificate.objects.exists()
        assert not V2gAuthority.objects.exists()


def test_with_the_test_pki_off_its_responder_answers_for_nothing(settings, world, tenant_a):
    contract = world["contract_certificate"]
    settings.PNC_TEST_PKI = False

    with scoping.scope(tenant_a):
        answer = ocsp_local(
            v2g.OcspId(contract.issuer_name_hash, contract.issuer_key_hash, contract.serial)
        )

    assert answer is None
