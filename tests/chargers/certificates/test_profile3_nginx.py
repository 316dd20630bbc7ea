"""Security profile 3 end to end: a simulated 2.0.1 charger gets its certificate from its
tenant's CA over profile 2 (password over TLS), then reconnects presenting it, through a real
nginx with deploy/nginx/cpms-ocpp.conf in front of a daphne the test started, and is admitted by
that certificate alone; a charger with no certificate, or one of another CA, is not.

The server runs without Redis (its embedded Celery worker signs the CSR) against the test
database; nginx connects to it from 127.0.0.2, the proxy it trusts."""

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections
from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import IssuedCertificate, IssuedState
from chargers.certificates.services.authority import authority_create
from chargers.certificates.services.settings import certificate_settings_set
from chargers.models import Charger, HandshakeRefusal, SecurityProfile
from chargers.services.chargers import charger_update
from cpms.tenancy import scoping
from tests.aio import PATIENCE, eventually, in_a
from tests.chargers.certificates.pki import register, simulated
from tests.helpers import child_env, database_url, free_port, running_server
from tests.nginx import ocpp_site, require_nginx, running_nginx, server_certificate

# One nginx and daphne for the module: its tests stay on one worker (make test's --dist loadgroup).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("profile3_nginx")]

PROXY = "127.0.0.2"


@pytest.fixture(scope="module")
def daphne(django_db_setup, django_db_blocker):
    require_nginx()
    env = child_env(
        DATABASE_URL=database_url(connection.settings_dict),
        LOG_LEVEL="WARNING",
        TRUSTED_PROXIES=f"{PROXY}/32",
        OCPP_HANDSHAKE_THROTTLE="false",
    )
    with running_server(env) as port:
        yield port
    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())


@pytest.fixture
def proxy(daphne, tenant_a, tmp_path):
    """nginx as deploy/nginx/cpms-ocpp.conf ships it, verifying client certificates against
    tenant A's CA (its root and CPO sub-CA); yields the wss:// base URL and the CA file that
    checks nginx's own certificate."""
    with scoping.scope(tenant_a):
        authority = authority_create()
    (tmp_path / "charger-ca.crt").write_text(authority.certificate_pem + authority.chain_pem)
    server_crt, _ = server_certificate(tmp_path)
    tls_port, plain_port = free_port(), free_port()
    site = ocpp_site(
        tmp_path, upstream_port=daphne, tls_port=tls_port, plain_port=plain_port, source=PROXY
    )
    with running_nginx(tmp_path / "nginx", site, [tls_port, plain_port]):
        yield f"wss://127.0.0.1:{tls_port}", str(server_crt)


def counted(charger, name, at_least=1, online=None):
    """An async check: the charger's `name` counter reached `at_least` (and it is online)."""

    async def check():
        reached = charger.stats.counts[name] >= at_least
        return reached and (online is None or charger.online == online)

    return check


@contextlib.asynccontextmanager
async def started(charger):
    task = asyncio.create_task(charger.run())
    try:
        yield charger
    finally:
        await charger.stop(within=PATIENCE)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def to_profile3_pinned(tenant, identity):
    """The operator moves the charger to profile 3; the tenant pins issued certificates."""
    charger = Charger.objects.get(identity=identity)
    charger_update(charger=charger, security_profile=SecurityProfile.CERTIFICATE)
    certificate_settings_set(pin_issued=True)


def refusals():
    return list(HandshakeRefusal.objects.values_list("reason", "identity"))


async def test_a_charger_gets_its_certificate_then_is_admitted_by_it_through_nginx(proxy, tenant_a):
    url, server_ca = proxy
    await register(tenant_a, "SIM-P3")
    charger = simulated(url, tenant_a, "SIM-P3", client_certificate=True, server_ca=server_ca)
    async with started(charger):
        # Profile 2 first: TLS and the password, no certificate yet.
        assert await charger.wait_until(lambda: charger.online, PATIENCE)
        await in_a(tenant_a, lambda: to_profile3_pinned(tenant_a, "SIM-P3"))

        assert await charger.sign_certificate("ChargingStationCertificate") == "Accepted"
        # It installs the chain, drops the socket and comes back presenting the certificate.
        await eventually(
            counted(charger, "connects", 2, online=True), what="the reconnect with the certificate"
        )

        # The charger's Accepted reaches the CPMS, which records the certificate installed.
        issued = await eventually(
            lambda: in_a(
                tenant_a,
                lambda: IssuedCertificate.objects.filter(state=IssuedState.INSTALLED).first(),
            ),
            what="the certificate installed",
        )

    leaf = crypto.load_certificates(charger.certificates.own["ChargingStationCertificate"])[0]
    assert issued.fingerprint == crypto.fingerprint(leaf)
    assert await in_a(tenant_a, refusals) == []
    # A profile-3 charger is admitted by its certificate only: no password went with it.
    assert charger.connection._credentials() == {}


async def test_a_profile3_charger_without_a_certificate_is_refused(proxy, tenant_a):
    url, server_ca = proxy
    await register(tenant_a, "SIM-P3-NONE")
    await in_a(tenant_a, lambda: to_profile3_pinned(tenant_a, "SIM-P3-NONE"))
    charger = simulated(url, tenant_a, "SIM-P3-NONE", client_certificate=True, server_ca=server_ca)

    async with started(charger):
        await eventually(counted(charger, "refused"), what="the refusal")

    assert not charger.online
    assert ("certificate_missing", "SIM-P3-NONE") in await in_a(tenant_a, refusals)


async def test_a_certificate_of_another_ca_is_refused_by_nginx(proxy, tenant_a):
    url, server_ca = proxy
    await register(tenant_a, "SIM-P3-ROGUE")
    await in_a(tenant_a, lambda: to_profile3_pinned(tenant_a, "SIM-P3-ROGUE"))
    charger = simulated(url, tenant_a, "SIM-P3-ROGUE", client_certificate=True, server_ca=server_ca)
    # A certificate for the charger's own key and id, signed by a CA nginx does not trust.
    rogue = crypto.new_authority(organization="Rogue", now=timezone.now())
    request = crypto.check_csr(
        charger.certificates.csr("ChargingStationCertificate"), identity="SIM-P3-ROGUE"
    ).csr
    leaf = crypto.sign_csr(
        request, issuer=rogue.sub_ca, issuer_key=rogue.sub_ca_key, now=timezone.now()
    )
    chain = crypto.pem_of(leaf) + crypto.pem_of(rogue.sub_ca)
    assert charger.certificates.signed(chain) == "Accepted"

    async with started(charger):
        await eventually(counted(charger, "refused"), what="the refusal")

    assert not charger.online
    assert any("HTTP 400" in event.text for event in charger.events)
    # nginx refused it: the CPMS never saw the attempt.
    assert await in_a(tenant_a, refusals) == []
