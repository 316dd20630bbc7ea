"""Plug & Charge over real OCPP 2.0.1 sockets: the simulator's EV installs a contract through
the tenant's built-in test V2G PKI, checks it by OCSP and charges under its eMAID; contracts
that are revoked, expired or another tenant's are refused; GetCertificateStatus answers a
parseable OCSP response, cached until its next update."""

import base64
import json
from datetime import UTC, timedelta

import pytest
from asgiref.sync import sync_to_async
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.utils import timezone
from ocpp.v201 import call

from billing import invoicing
from billing.models import ChargeDetailRecord, InvoiceLine
from billing.services import assignment_create, customer_create, invoices_issue, tariff_create
from chargers.certificates import v2g
from chargers.certificates.models import (
    ContractCertificate,
    EvCertificateRequest,
    OcspCacheEntry,
)
from chargers.certificates.services.contracts import contract_issue, contract_revoke
from chargers.certificates.services.pnc_settings import pnc_settings_set
from chargers.models import ChargingSession, IdToken, IdTokenType
from chargers.simulator.contract import Contract
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.certificates.pki import register, simulated
from tests.chargers.ocpp.clients201 import connected201
from tests.chargers.simulator.helpers import running
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)

EMAID = "DE-ABC-C12345678-9"


def flat(price):
    return [{"price_components": [{"type": "FLAT", "price": price, "vat": 19, "step_size": 1}]}]


@sync_to_async
def contract_of(tenant, emaid=EMAID, **options):
    """Awaitable: a contract of `tenant`'s built-in PKI, and the car holding it."""
    with scoping.scope(tenant):
        issued = contract_issue(emaid=emaid, **options)
    held = Contract(emaid)
    held.chain, held.key = issued.chain, issued.key
    return issued.contract, held


def authorize(held: Contract, *, chain=True, hash_data=True, emaid=None):
    return call.Authorize(
        id_token={"id_token": emaid or held.emaid, "type": "eMAID"},
        certificate=held.chain_pem if chain else None,
        iso15118_certificate_hash_data=held.ocsp_data() if hash_data else None,
    )


async def test_a_plug_and_charge_session_is_priced_and_invoiced_by_the_emaids_group(
    ocpp_server_in_process, tenant_a
):
    def arrange():
        with scoping.scope(tenant_a):
            group = IdToken.objects.create(uid="PNC-FLEET", label="Contracts")
            pnc_settings_set(token_group=group)
            assignment_create(
                tariff=tariff_create(name="Walk-in", currency="EUR", elements=flat(5))
            )
            contracts = tariff_create(name="Contracts", currency="EUR", elements=flat(1))
            assignment_create(tariff=contracts, group=group)
            customer_create(name="Contract fleet", groups=[group])
            return group

    group = await in_a(tenant_a, arrange)
    await register(tenant_a, "SIM-PNC-1")
    charger = simulated(
        ocpp_server_in_process, tenant_a, "SIM-PNC-1", plug_and_charge=True, emaid=EMAID
    )
    with eager_tasks():
        async with running(charger):
            session = await charger.start_session(connector_id=1)
            assert session is not None and session.id_tag == EMAID
            assert charger.contract.installed
            await charger.stop_session(connector_id=1)
            cdr = await eventually(
                lambda: in_a(tenant_a, lambda: ChargeDetailRecord.objects.first()),
                what="the priced session",
            )

    stored = await in_a(tenant_a, lambda: ChargingSession.objects.select_related("id_token").get())
    assert stored.id_token.uid == EMAID and stored.id_token.type == IdTokenType.EMAID
    assert stored.id_token.group_id == group.pk
    assert (cdr.group_id, cdr.total_excl_vat_minor) == (group.pk, 100)
    # The month's invoice of the group's customer carries the session.
    now = timezone.now()
    invoices = await in_a(
        tenant_a, lambda: invoices_issue(period=invoicing.month(now.year, now.month, UTC))
    )
    assert [invoice.customer.name for invoice in invoices] == ["Contract fleet"]
    lines = await in_a(
        tenant_a, lambda: list(InvoiceLine.objects.values_list("invoice_id", "cdr_id"))
    )
    assert lines == [(invoices[0].pk, cdr.pk)]
    contract = await in_a(tenant_a, lambda: ContractCertificate.objects.get())
    leaf = charger.contract.chain[0]
    assert contract.emaid == EMAID and contract.serial == format(leaf.serial_number, "x")
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == EMAID
    request = await in_a(tenant_a, lambda: EvCertificateRequest.objects.get())
    assert (request.status, request.emaid, request.action) == ("accepted", EMAID, "install")
    said = {e.kind: e.text for e in charger.events}
    assert said["contract-status"] == f"{EMAID}: OCSP Accepted"


async def test_a_revoked_contract_is_refused_by_the_ocsp_check(ocpp_server, tenant_a, charger):
    contract, held = await contract_of(tenant_a)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        before = await cp.call(authorize(held))
        await in_a(tenant_a, lambda: contract_revoke(contract=contract))
        after = await cp.call(authorize(held, chain=False))

    assert (before.certificate_status, before.id_token_info["status"]) == ("Accepted", "Accepted")
    assert after.certificate_status == "CertificateRevoked"
    assert after.id_token_info["status"] == "Invalid"


async def test_an_expired_contract_is_refused(ocpp_server, tenant_a, charger):
    _, held = await contract_of(tenant_a, days=1, now=timezone.now() - timedelta(days=3))
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        with_chain = await cp.call(authorize(held))
        hash_only = await cp.call(authorize(held, chain=False))

    assert with_chain.certificate_status == "CertificateExpired"
    assert hash_only.certificate_status == "CertificateExpired"
    assert with_chain.id_token_info["status"] == "Invalid"


async def test_a_contract_of_another_tenants_mo_ca_is_refused(
    ocpp_server, tenant_a, tenant_b, charger
):
    await contract_of(tenant_a)  # tenant A has a PKI of its own
    _, foreign = await contract_of(tenant_b)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        with_chain = await cp.call(authorize(foreign))
        hash_only = await cp.call(authorize(foreign, chain=False))

    assert with_chain.certificate_status == "CertChainError"
    assert hash_only.certificate_status == "CertChainError"
    assert with_chain.id_token_info["status"] == hash_only.id_token_info["status"] == "Invalid"


async def test_a_blocked_emaid_token_cancels_the_contract(ocpp_server, tenant_a, charger):
    contract, held = await contract_of(tenant_a)
    await in_a(tenant_a, lambda: IdToken.objects.filter(uid=EMAID).update(blocked=True))
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(authorize(held))

    assert reply.certificate_status == "ContractCancelled"
    assert reply.id_token_info["status"] == "Blocked"


async def test_a_valid_contract_without_a_token_of_the_tenant_is_unknown(
    ocpp_server, tenant_a, charger
):
    _, held = await contract_of(tenant_a)
    await in_a(tenant_a, lambda: IdToken.objects.filter(uid=EMAID).delete())
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(authorize(held))

    assert reply.certificate_status == "Accepted"
    assert reply.id_token_info["status"] == "Unknown"


async def test_get_certificate_status_answers_a_parseable_response_cached_until_next_update(
    ocpp_server, tenant_a, charger
):
    contract, held = await contract_of(tenant_a)
    data = held.ocsp_data()[0]
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        first = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))
        second = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))
        await in_a(tenant_a, lambda: contract_revoke(contract=contract))
        third = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))

    assert first.status == second.status == third.status == "Accepted"
    response = ocsp.load_der_ocsp_response(base64.b64decode(first.ocsp_result))
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == held.chain[0].serial_number
    # Signed by the issuing MO sub-CA itself.
    held.chain[1].public_key().verify(
        response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )
    assert second.ocsp_result == first.ocsp_result  # from the cache, not signed again
    revoked = ocsp.load_der_ocsp_response(base64.b64decode(third.ocsp_result))
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED  # revoking drops the cache
    entry = await in_a(tenant_a, lambda: OcspCacheEntry.objects.get())
    assert entry.served == 1 and entry.cert_status == "revoked"


async def test_an_unknown_or_garbled_certificate_status_request_is_failed(
    ocpp_server, tenant_a, charger
):
    await contract_of(tenant_a)
    unknown = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "ab" * 32,
        "issuer_key_hash": "cd" * 32,
        "serial_number": "5ec0de",
        "responder_url": "",
    }
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        foreign = await cp.call(call.GetCertificateStatus(ocsp_request_data=unknown))
        garbled = await cp.call(
            call.GetCertificateStatus(ocsp_request_data={**unknown, "issuer_key_hash": "zz"})
        )

    assert foreign.status == garbled.status == "Failed"
    assert "V2G PKI" in foreign.status_info["additional_info"]
    assert "SHA-256" in garbled.status_info["additional_info"]
    assert not await in_a(tenant_a, lambda: OcspCacheEntry.objects.exists())


@pytest.fixture
def charger(make_charger, tenant_a):
    """Tenant A's charger CP-1, with the password of tests/chargers/ocpp/clients.py."""
    return make_charger(tenant_a)


@pytest.mark.parametrize(
    "exi",
    [
        "not base64!",
        base64.b64encode(b"\x80 EXI bytes of a real car").decode(),
        base64.b64encode(
            json.dumps({"format": v2g.LOCAL_FORMAT, "emaid": "nope"}).encode()
        ).decode(),
    ],
    ids=["garbage-base64", "real-exi", "bad-emaid"],
)
async def test_a_bad_ev_certificate_request_is_failed_with_its_reason_and_nothing_issued(
    ocpp_server, tenant_a, charger, exi
):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(
            call.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
                action="Install",
                exi_request=exi,
            )
        )

    assert (reply.status, reply.exi_response) == ("Failed", "")
    request = await in_a(tenant_a, lambda: EvCertificateRequest.objects.get())
    assert request.status == "failed" and request.reason
    assert request.reason in reply.status_info["additional_info"]
    assert not await in_a(tenant_a, lambda: ContractCertificate.objects.exists())


async def test_garbage_pem_in_authorize_is_a_chain_error(ocpp_server, tenant_a, charger):
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(
            call.Authorize(
                id_token={"id_token": EMAID, "type": "eMAID"},
                certificate="-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----",
            )
        )

    assert reply.certificate_status == "CertChainError"
    assert reply.id_token_info["status"] == "Invalid"


async def test_an_update_request_gets_a_new_contract_for_the_same_emaid(
    ocpp_server, tenant_a, charger
):
    car = Contract(EMAID)
    async with connected201(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        for action in ("Install", "Update"):
            reply = await cp.call(
                call.Get15118EVCertificate(
                    iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
                    action=action,
                    exi_request=car.install_request(),
                )
            )
            assert reply.status == "Accepted"
            assert car.accept(reply.exi_response) == ""

    contracts = await in_a(tenant_a, lambda: list(ContractCertificate.objects.all()))
    assert [c.emaid for c in contracts] == [EMAID, EMAID]
    assert car.chain[0].serial_number == int(contracts[0].serial, 16)  # the newest
    actions = await in_a(
        tenant_a, lambda: sorted(EvCertificateRequest.objects.values_list("action", flat=True))
    )
    assert actions == ["install", "update"]
