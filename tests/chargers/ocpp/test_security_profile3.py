"""OCPP security profile 3: a client certificate verified by the TLS proxy admits the charger.

The server under test trusts the proxy at 127.0.0.2. A test plays that proxy by connecting from
127.0.0.2 with the headers nginx would set; a client connecting from 127.0.0.1 is anyone else.
"""

import asyncio
import base64
import hashlib
import ssl
import subprocess
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from chargers.certificates.models import IssuedCertificate, IssuedState
from chargers.certificates.services.authority import authority_create
from chargers.certificates.services.settings import certificate_settings_set
from chargers.models import Charger, HandshakeRefusal, SecurityProfile
from chargers.services.chargers import charger_update
from cpms.tenancy import scoping
from tests.chargers.ocpp import clients
from tests.chargers.ocpp.clients import PASSWORD, basic
from tests.helpers import ROOT, child_env, database_url, free_port, running_server
from tests.nginx import ocpp_site, require_nginx, running_nginx, server_certificate

# One proxied daphne (and nginx) for the module: its tests stay on one worker (make test's
# --dist loadgroup).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("profile3")]

PROXY = "127.0.0.2"
CHARGER_ADDRESS = "203.0.113.7"
# Any DER bytes will do for pinning: the server hashes what the proxy passes on.
DER = b"0\x82\x01\x0acertificate of CP-1"
OTHER_DER = b"0\x82\x01\x0acertificate of another CP-1"


def escaped_pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return quote(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n", safe="")


def certificate(cn: str, verify: str = "SUCCESS", der: bytes = DER) -> dict:
    """The headers nginx sets for a client certificate (deploy/nginx/cpms-ocpp-proxy.conf)."""
    return {
        "X-Client-Cert-Verify": verify,
        "X-Client-Cert-Subject": f"CN={cn},O=Example Charging,C=DE",
        "X-Client-Cert": escaped_pem(der),
        "X-Forwarded-For": CHARGER_ADDRESS,
    }


async def boots(ws, identity: str) -> None:
    """A 1.6 charger on the open socket `ws` boots and is accepted."""
    charger = clients.TestCharger(identity, ws, response_timeout=10)
    task = asyncio.create_task(charger.start())
    try:
        assert (await charger.boot()).status == "Accepted"
    finally:
        task.cancel()


@pytest.fixture(scope="session")
def proxied_server(django_db_setup, django_db_blocker):
    env = child_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL or None,
        LOG_LEVEL="WARNING",
        TRUSTED_PROXIES=f"{PROXY}/32,2001:db8::1",
        # Its refusal counts would carry from one test to the next (see fixtures.py).
        OCPP_HANDSHAKE_THROTTLE="false",
    )
    with running_server(env, "--no-worker") as port:
        yield f"ws://127.0.0.1:{port}"
    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())


async def open_socket(server, tenant, identity, headers, source="127.0.0.1"):
    """The HTTP status of a refused upgrade, or None after an accepted one and a boot."""
    url = f"{server}/ocpp/{tenant}/{quote(identity, safe='')}"
    try:
        async with websockets.connect(
            url,
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
            open_timeout=10,
            local_addr=(source, 0),
        ) as ws:
            await boots(ws, identity)
            return None
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code


@sync_to_async
def refusals():
    with scoping.unscoped():
        return list(
            HandshakeRefusal.objects.values_list("reason", "identity", "tenant_slug", "remote_addr")
        )


@sync_to_async
def profile3(make_charger, tenant, identity="CP-1", fingerprint=""):
    charger = make_charger(tenant, identity=identity)
    with scoping.scope(tenant):
        charger_update(
            charger=charger,
            security_profile=SecurityProfile.CERTIFICATE,
            certificate_fingerprint=fingerprint,
        )
    return charger


@sync_to_async
def reload(charger):
    with scoping.unscoped():
        return Charger.objects.get(pk=charger.pk)


async def test_forged_certificate_headers_from_an_untrusted_address_are_refused(
    proxied_server, tenant_a, make_charger
):
    await profile3(make_charger, tenant_a)
    status = await open_socket(proxied_server, "tenant-a", "CP-1", certificate("CP-1"))
    assert status == 401
    assert await refusals() == [("certificate_missing", "CP-1", "tenant-a", "127.0.0.1")]


async def test_a_profile3_charger_behind_the_trusted_proxy_with_its_cn_is_admitted(
    proxied_server, tenant_a, make_charger
):
    charger = await profile3(make_charger, tenant_a)
    status = await open_socket(
        proxied_server, "tenant-a", "CP-1", certificate("CP-1"), source=PROXY
    )
    assert status is None
    assert await refusals() == []
    # The charger's address is the one the proxy forwarded, not the proxy's own.
    assert (await reload(charger)).remote_addr == CHARGER_ADDRESS


async def test_a_profile3_charger_needs_no_password(proxied_server, tenant_a, make_charger):
    await profile3(make_charger, tenant_a)
    headers = {**certificate("CP-1"), **basic("CP-1", "wrong-password-00000")}
    assert await open_socket(proxied_server, "tenant-a", "CP-1", headers, source=PROXY) is None


async def test_a_certificate_of_another_charger_is_refused_and_recorded(
    proxied_server, tenant_a, make_charger
):
    await profile3(make_charger, tenant_a)
    await sync_to_async(make_charger)(tenant_a, identity="CP-2")
    status = await open_socket(
        proxied_server, "tenant-a", "CP-1", certificate("CP-2"), source=PROXY
    )
    assert status == 401
    assert await refusals() == [("certificate_cn_mismatch", "CP-1", "tenant-a", CHARGER_ADDRESS)]


@pytest.mark.parametrize("verify", ["NONE", "FAILED:certificate has expired"])
async def test_a_certificate_the_proxy_did_not_verify_is_refused(
    proxied_server, tenant_a, make_charger, verify
):
    await profile3(make_charger, tenant_a)
    headers = certificate("CP-1", verify=verify)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", headers, source=PROXY) == 401
    assert (await refusals())[0][0] == "certificate_missing"


async def test_a_profile3_charger_with_only_its_password_is_refused(
    proxied_server, tenant_a, make_charger
):
    await profile3(make_charger, tenant_a)
    status = await open_socket(
        proxied_server, "tenant-a", "CP-1", basic("CP-1", PASSWORD), source=PROXY
    )
    assert status == 401
    assert (await refusals())[0][0] == "certificate_missing"


async def test_a_pinned_charger_is_admitted_only_with_that_certificate(
    proxied_server, tenant_a, make_charger
):
    pin = ":".join(f"{b:02X}" for b in hashlib.sha256(DER).digest())
    await profile3(make_charger, tenant_a, fingerprint=pin)
    other = certificate("CP-1", der=OTHER_DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", other, source=PROXY) == 401
    assert (await refusals())[0][0] == "certificate_not_pinned"
    pinned = certificate("CP-1", der=DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", pinned, source=PROXY) is None


async def test_a_profile2_charger_behind_the_proxy_still_uses_its_password(
    proxied_server, tenant_a, make_charger
):
    await sync_to_async(make_charger)(tenant_a)
    with_password = {**certificate("CP-1"), **basic("CP-1", PASSWORD)}
    assert await open_socket(proxied_server, "tenant-a", "CP-1", with_password, PROXY) is None
    # A verified certificate does not stand in for the password of a profile-2 charger.
    wrong = {**certificate("CP-1"), **basic("CP-1", "wrong-password-00000")}
    assert await open_socket(proxied_server, "tenant-a", "CP-1", wrong, source=PROXY) == 401
    assert await refusals() == [("wrong_password", "CP-1", "tenant-a", CHARGER_ADDRESS)]


async def test_a_profile2_charger_connecting_directly_is_unaffected(
    proxied_server, tenant_a, make_charger
):
    charger = await sync_to_async(make_charger)(tenant_a)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", basic("CP-1", PASSWORD)) is None
    assert (await reload(charger)).remote_addr == "127.0.0.1"


async def test_charlies_charger_certificate_does_not_open_tenant_a(
    proxied_server, tenant_a, tenant_b, make_charger
):
    await profile3(make_charger, tenant_b, identity="B-1")
    assert await open_socket(proxied_server, "tenant-b", "B-1", certificate("B-1"), PROXY) is None
    status = await open_socket(proxied_server, "tenant-a", "B-1", certificate("B-1"), PROXY)
    assert status == 401
    assert await refusals() == [("missing_credentials", "B-1", "tenant-a", CHARGER_ADDRESS)]


# --- End to end through a real nginx with deploy/nginx/ (tests/nginx.py) --------------------------

DEPLOY = ROOT / "deploy"
WEIRD_ID = "Site 1/Bay #2, rear"


def issue(ca_dir, identity) -> tuple[str, str, str]:
    """(certificate, key, SHA-256 as openssl prints it), issued with deploy/charger-cert.sh."""
    done = subprocess.run(
        [str(DEPLOY / "charger-cert.sh"), "issue", str(ca_dir), identity],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    fingerprint = done.stdout.strip().splitlines()[-1]
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in identity)
    return str(ca_dir / f"{name}.crt"), str(ca_dir / f"{name}.key"), fingerprint


@pytest.fixture(scope="module")
def nginx(proxied_server, tmp_path_factory):
    """nginx with deploy/nginx/cpms-ocpp.conf as shipped, but for paths, ports and a source
    address: it connects to daphne from 127.0.0.2, the proxy the server trusts."""
    require_nginx()
    tmp = tmp_path_factory.mktemp("nginx")
    ca_dir, rogue_dir = tmp / "ca", tmp / "rogue"
    for directory in (ca_dir, rogue_dir):
        subprocess.run(
            [str(DEPLOY / "charger-cert.sh"), "ca", str(directory)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    server_crt, _ = server_certificate(tmp)
    (tmp / "charger-ca.crt").write_text((ca_dir / "ca.crt").read_text())
    daphne_port = int(proxied_server.rsplit(":", 1)[1])
    tls_port, plain_port = free_port(), free_port()
    site = ocpp_site(
        tmp, upstream_port=daphne_port, tls_port=tls_port, plain_port=plain_port, source=PROXY
    )
    with running_nginx(tmp / "nginx", site, [tls_port, plain_port]):
        yield SimpleNamespace(
            wss=f"wss://127.0.0.1:{tls_port}",
            ws=f"ws://127.0.0.1:{plain_port}",
            server_ca=str(server_crt),
            ca_dir=ca_dir,
            rogue_dir=rogue_dir,
        )


def tls(nginx, certificate=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=nginx.server_ca)
    if certificate:
        context.load_cert_chain(certificate[0], certificate[1])
    return context


async def through_nginx(url, tenant, identity, headers=None, context=None):
    """The HTTP status of a refused upgrade, or None after an accepted one and a boot."""
    try:
        async with websockets.connect(
            f"{url}/ocpp/{tenant}/{quote(identity, safe='')}",
            subprotocols=["ocpp1.6"],
            additional_headers=headers or {},
            open_timeout=10,
            ssl=context,
        ) as ws:
            await boots(ws, identity)
            return None
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code


async def test_nginx_admits_a_pinned_charger_by_its_certificate(nginx, tenant_a, make_charger):
    certificate = issue(nginx.ca_dir, WEIRD_ID)
    charger = await profile3(make_charger, tenant_a, identity=WEIRD_ID, fingerprint=certificate[2])
    context = tls(nginx, certificate)
    assert await through_nginx(nginx.wss, "tenant-a", WEIRD_ID, context=context) is None
    assert await refusals() == []
    assert (await reload(charger)).remote_addr == "127.0.0.1"


async def test_nginx_passes_on_the_certificates_cn_not_the_clients_claim(
    nginx, tenant_a, make_charger
):
    await profile3(make_charger, tenant_a)
    context = tls(nginx, issue(nginx.ca_dir, "CP-2"))
    # CP-2's own certificate, with headers claiming CP-1's.
    claim = certificate("CP-1")
    assert await through_nginx(nginx.wss, "tenant-a", "CP-1", claim, context) == 401
    assert await refusals() == [("certificate_cn_mismatch", "CP-1", "tenant-a", "127.0.0.1")]


@pytest.mark.parametrize("scheme", ["wss", "ws"])
async def test_nginx_replaces_certificate_headers_a_client_sends(
    nginx, tenant_a, make_charger, scheme
):
    await profile3(make_charger, tenant_a)
    # No client certificate, but the headers nginx would set for one.
    forged = certificate("CP-1")
    url, context = (nginx.wss, tls(nginx)) if scheme == "wss" else (nginx.ws, None)
    assert await through_nginx(url, "tenant-a", "CP-1", forged, context) == 401
    reason, _, _, address = (await refusals())[0]
    assert (reason, address) == ("certificate_missing", "127.0.0.1")


async def test_nginx_refuses_a_certificate_of_another_ca(nginx, tenant_a, make_charger):
    await profile3(make_charger, tenant_a)
    context = tls(nginx, issue(nginx.rogue_dir, "CP-1"))
    assert await through_nginx(nginx.wss, "tenant-a", "CP-1", context=context) == 400
    assert await refusals() == []


async def test_nginx_leaves_a_profile2_charger_to_its_password(nginx, tenant_a, make_charger):
    await sync_to_async(make_charger)(tenant_a)
    headers = basic("CP-1", PASSWORD)
    assert await through_nginx(nginx.wss, "tenant-a", "CP-1", headers, tls(nginx)) is None


@sync_to_async
def tenant_pins(tenant, charger, der, *, valid_days):
    """The tenant pins issued certificates; `der` is one issued to `charger`, valid for
    `valid_days` more days (negative: expired)."""
    now = timezone.now()
    with scoping.scope(tenant):
        certificate_settings_set(pin_issued=True)
        IssuedCertificate.objects.create(
            charger=charger,
            authority=authority_create(),
            use="charging_station",
            serial="1",
            subject="CN=CP-1",
            issuer="CN=Tenant A CPO Sub-CA",
            not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=valid_days),
            fingerprint=hashlib.sha256(der).hexdigest(),
            pem="",
            state=IssuedState.INSTALLED,
        )


async def test_a_tenant_that_pins_admits_only_a_certificate_it_issued_to_the_charger(
    proxied_server, tenant_a, make_charger
):
    charger = await profile3(make_charger, tenant_a)
    await tenant_pins(tenant_a, charger, DER, valid_days=30)

    other = certificate("CP-1", der=OTHER_DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", other, source=PROXY) == 401
    assert (await refusals())[0][0] == "certificate_not_pinned"
    issued = certificate("CP-1", der=DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", issued, source=PROXY) is None


async def test_a_tenant_that_pins_refuses_an_expired_issued_certificate(
    proxied_server, tenant_a, make_charger
):
    charger = await profile3(make_charger, tenant_a)
    await tenant_pins(tenant_a, charger, DER, valid_days=-1)

    issued = certificate("CP-1", der=DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", issued, source=PROXY) == 401
    assert (await refusals())[0][0] == "certificate_not_pinned"
