"""Chargers get certificates over real OCPP: a simulated charger (chargers/simulator) sends
SignCertificate to the server served in this process (Celery eager beside it), the tenant's
CA signs its CSR, and CertificateSigned carries the chain back."""

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chargers.certificates.models import (
    CertificateAuthority,
    CertificateUse,
    IssuedCertificate,
    IssuedState,
    RequestState,
    SigningRequest,
    V2gAuthority,
)
from chargers.certificates.services.pnc_settings import pnc_settings_set
from chargers.models import ChargerEvent, EventKind
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import (
    chain_of,
    csr,
    register,
    simulated,
    weak_csr,
)
from tests.chargers.simulator.helpers import fleet, running
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def installed(tenant, identity):
    async def check():
        return await in_a(
            tenant,
            lambda: IssuedCertificate.objects.filter(
                charger__identity=identity, state=IssuedState.INSTALLED
            ).first(),
        )

    return check


async def test_a_201_charger_gets_a_chain_signed_by_its_tenants_sub_ca(
    ocpp_server_in_process, tenant_a
):
    await register(tenant_a, "SIM-PKI-1")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-1")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate("ChargingStationCertificate") == "Accepted"
            issued = await eventually(installed(tenant_a, "SIM-PKI-1"), what="the certificate")

    authority = await in_a(tenant_a, lambda: CertificateAuthority.objects.get(active=True))
    leaf, sub_ca = chain_of(charger.certificates.own["ChargingStationCertificate"])
    root = chain_of(authority.chain_pem)[0]
    leaf.verify_directly_issued_by(sub_ca)
    sub_ca.verify_directly_issued_by(root)
    assert sub_ca.fingerprint(leaf.signature_hash_algorithm).hex() == authority.fingerprint
    assert leaf.public_key() == charger.certificates.keys["ChargingStationCertificate"].public_key()
    assert leaf.subject.rfc4514_string() == "CN=SIM-PKI-1,O=CPMS-Sim"
    assert issued.fingerprint == leaf.fingerprint(leaf.signature_hash_algorithm).hex()
    assert issued.serial == format(leaf.serial_number, "x")
    assert issued.not_after == leaf.not_valid_after_utc


async def test_a_16_charger_gets_a_certificate_too(ocpp_server_in_process, tenant_a):
    await register(tenant_a, "SIM-PKI-16")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-16", version="1.6")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate() == "Accepted"
            await eventually(installed(tenant_a, "SIM-PKI-16"), what="the certificate")

    leaf, sub_ca = chain_of(charger.certificates.own["ChargingStationCertificate"])
    leaf.verify_directly_issued_by(sub_ca)


@pytest.mark.parametrize(
    ("bad_csr", "reason"),
    [
        (lambda: csr("SIM-OTHER"), "not the charger's id"),
        (lambda: weak_csr("SIM-PKI-2"), "at least 2048"),
        (lambda: "-----BEGIN CERTIFICATE REQUEST-----\nZ2FyYmFnZQ==\n", "not a PEM"),
    ],
    ids=["another-chargers-id", "weak-key", "garbage"],
)
async def test_a_bad_csr_is_rejected_and_recorded(
    ocpp_server_in_process, tenant_a, bad_csr, reason
):
    await register(tenant_a, "SIM-PKI-2")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-2")
    with eager_tasks():
        async with running(charger):
            status = await charger.sign_certificate("ChargingStationCertificate", csr=bad_csr())

    assert status == "Rejected"
    request = await in_a(tenant_a, lambda: SigningRequest.objects.get())
    assert request.state == RequestState.REJECTED
    assert reason in request.reason
    event = await in_a(tenant_a, lambda: ChargerEvent.objects.get(kind=EventKind.SIGN_CERTIFICATE))
    assert reason in event.summary
    assert not await in_a(tenant_a, lambda: IssuedCertificate.objects.exists())
    assert "ChargingStationCertificate" not in charger.certificates.own


async def test_a_201_chargers_v2g_certificate_is_signed_by_its_tenants_v2g_cpo_sub_ca(
    ocpp_server_in_process, tenant_a
):
    await register(tenant_a, "SIM-PKI-3")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-3")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate("V2GCertificate") == "Accepted"
            issued = await eventually(installed(tenant_a, "SIM-PKI-3"), what="the certificate")

    # CertificateSigned came with certificateType V2GCertificate: the charger keeps it apart.
    assert "ChargingStationCertificate" not in charger.certificates.own
    leaf, cpo = chain_of(charger.certificates.own["V2GCertificate"])
    authority = await in_a(tenant_a, lambda: V2gAuthority.objects.get())
    v2g_root = chain_of(authority.root_pem)[0]
    leaf.verify_directly_issued_by(cpo)
    cpo.verify_directly_issued_by(v2g_root)
    assert chain_of(authority.cpo_pem)[0] == cpo
    assert leaf.public_key() == charger.certificates.keys["V2GCertificate"].public_key()
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_agreement
    assert (issued.use, issued.authority_id) == (CertificateUse.V2G, None)
    assert issued.fingerprint == leaf.fingerprint(leaf.signature_hash_algorithm).hex()
    # No charging-station CA was made for it, and profile 3 never pins a V2G certificate.
    assert not await in_a(tenant_a, lambda: CertificateAuthority.objects.exists())


@pytest.mark.parametrize(
    ("bad_csr", "reason"),
    [
        (lambda: csr("SIM-PKI-4", rsa_key()), "EC P-256"),
        (lambda: csr("SIM-PKI-4", ec.generate_private_key(ec.SECP384R1())), "EC P-256"),
        (lambda: "garbage", "not a PEM"),
    ],
    ids=["rsa-key", "p384-key", "garbage"],
)
async def test_a_bad_v2g_csr_is_rejected_and_recorded(
    ocpp_server_in_process, tenant_a, bad_csr, reason
):
    await register(tenant_a, "SIM-PKI-4")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-4")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate("V2GCertificate", csr=bad_csr()) == "Rejected"

    request = await in_a(tenant_a, lambda: SigningRequest.objects.get())
    assert (request.use, request.state) == (CertificateUse.V2G, RequestState.REJECTED)
    assert reason in request.reason
    assert not await in_a(tenant_a, lambda: IssuedCertificate.objects.exists())


async def test_a_v2g_csr_is_refused_when_the_tenant_uses_a_remote_provider(
    ocpp_server_in_process, tenant_a
):
    await register(tenant_a, "SIM-PKI-5")
    await in_a(
        tenant_a,
        lambda: pnc_settings_set(provider="remote", remote_url="https://pnc.example.com/"),
    )
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-5")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate("V2GCertificate") == "Rejected"

    request = await in_a(tenant_a, lambda: SigningRequest.objects.get())
    assert "remote provider" in request.reason
    assert not await in_a(tenant_a, lambda: V2gAuthority.objects.exists())


async def test_tenant_bs_charger_is_signed_by_bs_ca_never_as(
    ocpp_server_in_process, tenant_a, tenant_b
):
    await register(tenant_a, "SIM-PKI-A")
    await register(tenant_b, "SIM-PKI-B")
    in_a_charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-A")
    in_b_charger = simulated(ocpp_server_in_process, tenant_b, "SIM-PKI-B")
    with eager_tasks():
        async with fleet(in_a_charger, in_b_charger):
            await in_a_charger.sign_certificate("ChargingStationCertificate")
            await eventually(installed(tenant_a, "SIM-PKI-A"), what="A's certificate")
            await in_b_charger.sign_certificate("ChargingStationCertificate")
            await eventually(installed(tenant_b, "SIM-PKI-B"), what="B's certificate")

    ca_a = await in_a(tenant_a, lambda: CertificateAuthority.objects.get(active=True))
    ca_b = await in_a(tenant_b, lambda: CertificateAuthority.objects.get(active=True))
    assert ca_a.pk != ca_b.pk
    _, sub_ca_b = chain_of(in_b_charger.certificates.own["ChargingStationCertificate"])
    _, sub_ca_a = chain_of(in_a_charger.certificates.own["ChargingStationCertificate"])
    assert sub_ca_b.fingerprint(sub_ca_b.signature_hash_algorithm).hex() == ca_b.fingerprint
    assert sub_ca_a.fingerprint(sub_ca_a.signature_hash_algorithm).hex() == ca_a.fingerprint
    assert await in_a(tenant_b, lambda: IssuedCertificate.objects.get().authority_id) == ca_b.pk
