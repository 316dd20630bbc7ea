"""Helpers of the certificate tests: simulated chargers against the in-process server, tasks
run eagerly beside it, and CSRs a charger should not get signed."""

from asgiref.sync import sync_to_async
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from chargers.models import Charger
from chargers.services.chargers import charger_set_password
from chargers.simulator import ChargerConfig, SimulatedCharger
from cpms.tenancy import scoping
from tests.aio import PATIENCE

PASSWORD = "simulated-charger-password-1"
FAST = {
    "connectors": 1,
    "meter_interval": 60.0,
    "session_interval": 0.0,
    "incident_interval": 3600.0,
    "response_timeout": PATIENCE,
    "open_timeout": PATIENCE,
    "reconnect_min": 0.05,
    "reconnect_max": 0.2,
    "message_retry_interval": 0.05,
    "boot_retry_seconds": 0.2,
    "ping_interval": None,
    "seed": 1,
}


@sync_to_async
def register(tenant, *identities):
    """Awaitable: chargers `identities` of `tenant`, with the simulator's password."""
    with scoping.scope(tenant):
        for identity in identities:
            charger = Charger.objects.create(identity=identity)
            charger_set_password(charger=charger, password=PASSWORD)


def simulated(server, tenant, identity, version="2.0.1", **overrides):
    options = {"password": PASSWORD, **FAST, **overrides}
    config = ChargerConfig(
        url=f"{server}/ocpp/{tenant.slug}/", charger_id=identity, version=version, **options
    )
    return SimulatedCharger.create(config)


def csr(common_name, key=None):
    """A PEM CSR naming `common_name`, for `key` (a new P-256 key by default)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject)
    return request.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def weak_csr(common_name):
    return csr(common_name, rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 (refused)


def chain_of(pem):
    return x509.load_pem_x509_certificates(pem.encode())
