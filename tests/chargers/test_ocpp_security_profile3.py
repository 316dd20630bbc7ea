"""OCPP security profile 3: a client certificate verified by the TLS proxy admits the charger.

The server under test trusts the proxy at 127.0.0.2. A test plays that proxy by connecting from
127.0.0.2 with the headers nginx would set; a client connecting from 127.0.0.1 is anyone else.
"""

import asyncio
import base64
import hashlib
from urllib.parse import quote

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, connections

from chargers import credentials
from chargers.models import Charger, HandshakeRefusal, SecurityProfile
from chargers.ocpp import handshake
from cpms import scoping
from tests.chargers import ocpp16
from tests.chargers.conftest import database_url
from tests.chargers.ocpp16 import PASSWORD, basic
from tests.helpers import child_env, running_server

pytestmark = pytest.mark.django_db(transaction=True)

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


@pytest.fixture(scope="session")
def proxied_server(django_db_setup, django_db_blocker):
    env = child_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL or None,
        LOG_LEVEL="WARNING",
        OCPP_TRUSTED_PROXIES=f"{PROXY}/32,2001:db8::1",
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
            charger = ocpp16.TestCharger(identity, ws, response_timeout=10)
            task = asyncio.create_task(charger.start())
            try:
                assert (await charger.boot()).status == "Accepted"
            finally:
                task.cancel()
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
        credentials.set_security_profile(
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
    assert status == 403
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
    assert status == 403
    assert await refusals() == [("certificate_cn_mismatch", "CP-1", "tenant-a", CHARGER_ADDRESS)]


@pytest.mark.parametrize("verify", ["NONE", "FAILED:certificate has expired"])
async def test_a_certificate_the_proxy_did_not_verify_is_refused(
    proxied_server, tenant_a, make_charger, verify
):
    await profile3(make_charger, tenant_a)
    headers = certificate("CP-1", verify=verify)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", headers, source=PROXY) == 403
    assert (await refusals())[0][0] == "certificate_missing"


async def test_a_profile3_charger_with_only_its_password_is_refused(
    proxied_server, tenant_a, make_charger
):
    await profile3(make_charger, tenant_a)
    status = await open_socket(
        proxied_server, "tenant-a", "CP-1", basic("CP-1", PASSWORD), source=PROXY
    )
    assert status == 403
    assert (await refusals())[0][0] == "certificate_missing"


async def test_a_pinned_charger_is_admitted_only_with_that_certificate(
    proxied_server, tenant_a, make_charger
):
    pin = ":".join(f"{b:02X}" for b in hashlib.sha256(DER).digest())
    await profile3(make_charger, tenant_a, fingerprint=pin)
    other = certificate("CP-1", der=OTHER_DER)
    assert await open_socket(proxied_server, "tenant-a", "CP-1", other, source=PROXY) == 403
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
    assert await open_socket(proxied_server, "tenant-a", "CP-1", wrong, source=PROXY) == 403
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
    assert status == 403
    assert await refusals() == [("missing_credentials", "B-1", "tenant-a", CHARGER_ADDRESS)]


def test_a_malformed_trusted_proxy_setting_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match="OCPP_TRUSTED_PROXIES"):
        handshake.trusted_networks(("10.0.0.0/8", "proxy.example.com"))


@pytest.mark.parametrize(
    "peer,trusted",
    [
        ("127.0.0.2", True),
        ("::ffff:127.0.0.2", True),
        ("2001:db8::1", True),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_only_the_configured_proxies_are_trusted(settings, peer, trusted):
    settings.OCPP_TRUSTED_PROXIES = ["127.0.0.2", "2001:db8::/64"]
    assert handshake.from_trusted_proxy(peer) is trusted


def test_serve_refuses_daphne_proxy_headers_with_trusted_proxies(settings):
    settings.OCPP_TRUSTED_PROXIES = ["127.0.0.2"]
    with pytest.raises(CommandError, match="--proxy-headers"):
        call_command("serve", "--proxy-headers", "--no-worker")
