"""The remote implementations of Plug & Charge's two interfaces, against HTTP servers of the
test's own (no internet): a Hubject-style contract-certificate provider that takes and returns
base64 EXI, and an OCSP responder by the responder URL a charger names. Whatever goes wrong
out there, the charger gets Failed and the reason is kept."""

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from cryptography.x509 import ocsp
from django.utils import timezone
from ocpp.v201 import call

from chargers.certificates import crypto, v2g
from chargers.certificates.models import EvCertificateRequest, OcspCacheEntry
from chargers.certificates.services.pnc_settings import pnc_settings_set
from cpms.tenancy import scoping
from tests.aio import in_a
from tests.chargers.ocpp.clients import PASSWORD
from tests.chargers.ocpp.clients201 import connected201
from tests.helpers import http_server

pytestmark = pytest.mark.django_db(transaction=True)

EXI_RESPONSE = base64.b64encode(b"\x80\x98 CertificateInstallationRes as EXI").decode()
INSTALL = call.Get15118EVCertificate(
    iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
    action="Install",
    exi_request=base64.b64encode(b"\x80\x98 CertificateInstallationReq as EXI").decode(),
)


@pytest.fixture
def charger(make_charger, tenant_a):
    return make_charger(tenant_a, password=PASSWORD)


@pytest.fixture
def lab(settings):
    """The test's servers live on 127.0.0.1, which production refuses to call."""
    settings.PNC_ALLOW_PRIVATE_ADDRESSES = True


def remote(tenant, **fields):
    def configure():
        with scoping.scope(tenant):
            pnc_settings_set(**fields)

    return in_a(tenant, configure)


class Recording(BaseHTTPRequestHandler):
    """Keeps what it was sent on the class; answers as `answer(handler, body)` says."""

    seen: list = []
    answer = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((dict(self.headers), body))
        status, content_type, reply = type(self).answer(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def handler(answer):
    return type("Handler", (Recording,), {"seen": [], "answer": staticmethod(answer)})


async def test_the_remote_provider_gets_the_exi_request_and_its_exi_response_goes_back_untouched(
    ocpp_server_in_process, tenant_a, charger, lab
):
    served = handler(
        lambda body: (200, "application/json", json.dumps({"exi_response": EXI_RESPONSE}).encode())
    )
    with http_server(served) as url:
        await remote(
            tenant_a,
            provider="remote",
            remote_url=f"{url}/v1/ccp/install",
            remote_username="cpo-a",
            remote_secret="s3cret",
        )
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            reply = await cp.call(INSTALL)

    assert (reply.status, reply.exi_response) == ("Accepted", EXI_RESPONSE)
    ((headers, body),) = served.seen
    assert json.loads(body) == {
        "action": "install",
        "schema_version": "urn:iso:15118:2:2013:MsgDef",
        "exi_request": INSTALL.exi_request,
    }
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"cpo-a:s3cret").decode()
    request = await in_a(tenant_a, lambda: EvCertificateRequest.objects.get())
    assert (request.provider, request.status) == ("remote", "accepted")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda body: (500, "text/plain", b"down"), "HTTP 500"),
        (lambda body: (200, "application/json", b"<html>"), "no base64 exi_response"),
        (lambda body: (200, "application/json", b'{"exi_response": "%%%"}'), "no base64"),
    ],
    ids=["server-error", "not-json", "not-base64"],
)
async def test_a_failing_remote_provider_gives_failed_with_the_reason_kept(
    ocpp_server_in_process, tenant_a, charger, lab, answer, reason
):
    with http_server(handler(answer)) as url:
        await remote(tenant_a, provider="remote", remote_url=url, remote_secret="token")
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            reply = await cp.call(INSTALL)

    assert (reply.status, reply.exi_response) == ("Failed", "")
    assert reason in reply.status_info["additional_info"]
    request = await in_a(tenant_a, lambda: EvCertificateRequest.objects.get())
    assert request.status == "failed" and reason in request.reason


async def test_a_remote_provider_that_does_not_answer_in_time_gives_failed(
    ocpp_server_in_process, tenant_a, charger, lab
):
    released = threading.Event()

    def hang(body):
        released.wait(30)
        return 200, "application/json", b"{}"

    with http_server(handler(hang)) as url:
        await remote(tenant_a, provider="remote", remote_url=url, remote_timeout=1)
        try:
            async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
                await cp.boot()
                reply = await cp.call(INSTALL)
        finally:
            released.set()

    assert reply.status == "Failed"
    assert (
        "1 s" in reply.status_info["additional_info"]
        or "timed out" in (reply.status_info["additional_info"])
    )


async def test_a_provider_on_an_internal_address_is_not_called_in_production(
    ocpp_server_in_process, tenant_a, charger
):
    served = handler(lambda body: (200, "application/json", b"{}"))
    with http_server(served) as url:
        await remote(tenant_a, provider="remote", remote_url=url)
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            reply = await cp.call(INSTALL)

    assert reply.status == "Failed"
    assert "internal address" in reply.status_info["additional_info"]
    assert served.seen == []


def responder_for(pki, contract, *, revoked: bool):
    """An OCSP responder of another PKI, answering for `contract` as its MO sub-CA."""

    def answer(body):
        request = ocsp.load_der_ocsp_request(body)
        ident = v2g.OcspId(
            request.issuer_name_hash.hex(),
            request.issuer_key_hash.hex(),
            format(request.serial_number, "x"),
        )
        signed = v2g.ocsp_sign(
            ident=ident,
            revoked_at=timezone.now() - timedelta(hours=1) if revoked else None,
            known=request.serial_number == contract.serial_number,
            responder=pki.sub_ca,
            responder_key=pki.sub_ca_key,
            now=timezone.now(),
        )
        return 200, "application/ocsp-response", signed.der

    return answer


def remote_contract():
    now = timezone.now()
    pki = v2g.new_pki(organization="Other MO", now=now)
    contract = v2g.issue_contract(
        emaid="NL-XYZ-C00000001-2",
        public_key=crypto.new_key().public_key(),
        mo=pki.sub_ca,
        mo_key=pki.sub_ca_key,
        now=now,
    )
    return pki, contract


@pytest.mark.parametrize("revoked", [False, True], ids=["good", "revoked"])
async def test_remote_ocsp_asks_the_responder_url_once_until_the_next_update(
    ocpp_server_in_process, tenant_a, charger, lab, revoked
):
    pki, contract = remote_contract()
    served = handler(responder_for(pki, contract, revoked=revoked))
    ident = v2g.OcspId.of(contract, pki.sub_ca)
    with http_server(served) as url:
        await remote(tenant_a, ocsp_mode="remote")
        data = {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": ident.issuer_name_hash,
            "issuer_key_hash": ident.issuer_key_hash,
            "serial_number": ident.serial,
            "responder_url": f"{url}/ocsp",
        }
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            first = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))
            second = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))

    assert first.status == second.status == "Accepted"
    response = ocsp.load_der_ocsp_response(base64.b64decode(first.ocsp_result))
    expected = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
    assert response.certificate_status == expected
    assert len(served.seen) == 1  # the second answer came from the cache
    entry = await in_a(tenant_a, lambda: OcspCacheEntry.objects.get())
    assert entry.served == 2


async def test_a_responder_that_answers_garbage_gives_failed_and_nothing_cached(
    ocpp_server_in_process, tenant_a, charger, lab
):
    pki, contract = remote_contract()
    ident = v2g.OcspId.of(contract, pki.sub_ca)
    with http_server(handler(lambda body: (200, "application/ocsp-response", b"junk"))) as url:
        await remote(tenant_a, ocsp_mode="remote")
        data = {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": ident.issuer_name_hash,
            "issuer_key_hash": ident.issuer_key_hash,
            "serial_number": ident.serial,
            "responder_url": url,
        }
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            reply = await cp.call(call.GetCertificateStatus(ocsp_request_data=data))

    assert reply.status == "Failed"
    assert "does not parse" in reply.status_info["additional_info"]
    assert not await in_a(tenant_a, lambda: OcspCacheEntry.objects.exists())
