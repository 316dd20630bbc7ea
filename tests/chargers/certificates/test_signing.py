"""Chargers get certificates over real OCPP: a simulated charger (chargers/simulator) sends
SignCertificate to the server served in this process (Celery eager beside it), the tenant's
CA signs its CSR, and CertificateSigned carries the chain back."""

import pytest

from chargers.certificates.models import (
    CertificateAuthority,
    IssuedCertificate,
    IssuedState,
    RequestState,
    SigningRequest,
)
from chargers.models import ChargerEvent, EventKind
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import (
    chain_of,
    csr,
    register,
    running,
    simulated,
    weak_csr,
)
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)


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


async def test_a_v2g_certificate_is_refused_for_now(ocpp_server_in_process, tenant_a):
    await register(tenant_a, "SIM-PKI-3")
    charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-3")
    with eager_tasks():
        async with running(charger):
            assert await charger.sign_certificate("V2GCertificate") == "Rejected"

    request = await in_a(tenant_a, lambda: SigningRequest.objects.get())
    assert "V2G" in request.reason


async def test_tenant_bs_charger_is_signed_by_bs_ca_never_as(
    ocpp_server_in_process, tenant_a, tenant_b
):
    await register(tenant_a, "SIM-PKI-A")
    await register(tenant_b, "SIM-PKI-B")
    in_a_charger = simulated(ocpp_server_in_process, tenant_a, "SIM-PKI-A")
    in_b_charger = simulated(ocpp_server_in_process, tenant_b, "SIM-PKI-B")
    with eager_tasks():
        async with running(in_a_charger, in_b_charger):
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
