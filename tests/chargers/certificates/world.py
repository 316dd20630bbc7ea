"""Tenant A's certificate rows for the shared `world` fixture (tests/conftest.py): its CA, a
certificate issued to the charger, the request it answered, a root the charger holds and the
operation that installed it. Called inside tenant A's scope."""

from django.utils import timezone

from chargers.certificates import crypto, v2g
from chargers.certificates.models import (
    CertificateOperation,
    ContractCertificate,
    EvCertificateRequest,
    InstalledCertificate,
    IssuedCertificate,
    IssuedState,
    OperationKind,
    OperationState,
    RequestState,
    RootKind,
    SigningRequest,
)
from chargers.certificates.services.authority import authority_create, authority_key
from chargers.certificates.services.contracts import open_key, v2g_authority


def certificates_world(charger):
    now = timezone.now()
    authority = authority_create()
    sub_ca = crypto.load_certificates(authority.certificate_pem)[0]
    key = crypto.new_key()
    csr = crypto.x509.load_pem_x509_csr(
        crypto.x509.CertificateSigningRequestBuilder()
        .subject_name(
            crypto.x509.Name([crypto.x509.NameAttribute(crypto.NameOID.COMMON_NAME, "CP-A")])
        )
        .sign(key, crypto.hashes.SHA256())
        .public_bytes(crypto.serialization.Encoding.PEM)
    )
    leaf = crypto.sign_csr(csr, issuer=sub_ca, issuer_key=authority_key(authority), now=now)
    issued = IssuedCertificate.objects.create(
        charger=charger,
        authority=authority,
        use="charging_station",
        serial=format(leaf.serial_number, "x"),
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint=crypto.fingerprint(leaf),
        pem=crypto.pem_of(leaf),
        state=IssuedState.INSTALLED,
    )
    request = SigningRequest.objects.create(
        charger=charger,
        use="charging_station",
        csr_pem=csr.public_bytes(crypto.serialization.Encoding.PEM).decode(),
        state=RequestState.INSTALLED,
        certificate=issued,
    )
    root = crypto.load_certificates(authority.chain_pem)[0]
    data = crypto.hash_data(root)
    operation = CertificateOperation.objects.create(
        charger=charger,
        batch="a" * 16,
        kind=OperationKind.INSTALL,
        root_kind=RootKind.CSMS,
        pem=crypto.pem_of(root),
        state=OperationState.DONE,
        detail="Accepted",
    )
    installed = InstalledCertificate.objects.create(
        charger=charger,
        kind=RootKind.CSMS,
        issuer_name_hash=data.issuer_name_hash,
        issuer_key_hash=data.issuer_key_hash,
        serial_number=data.serial_number,
        subject=root.subject.rfc4514_string(),
        pem=crypto.pem_of(root),
        seen_at=now,
    )
    return {
        **plug_and_charge_world(charger, now),
        "issued_certificate": issued,
        "signing_request": request,
        "installed_certificate": installed,
        "certificate_operation": operation,
        "root_pem": crypto.pem_of(root),
    }


def plug_and_charge_world(charger, now):
    """A contract certificate of the built-in V2G PKI (no token: the world's tokens stay as
    they are) and the EV certificate request that asked for it."""
    authority = v2g_authority()
    mo = crypto.load_certificates(authority.mo_pem)[0]
    leaf = v2g.issue_contract(
        emaid="DE-AAA-C00000001-1",
        public_key=crypto.new_key().public_key(),
        mo=mo,
        mo_key=open_key(authority.mo_key_sealed, authority.tenant_id),
        now=now,
    )
    ident = v2g.OcspId.of(leaf, mo)
    contract = ContractCertificate.objects.create(
        authority=authority,
        emaid="DE-AAA-C00000001-1",
        charger=charger,
        serial=ident.serial,
        issuer_name_hash=ident.issuer_name_hash,
        issuer_key_hash=ident.issuer_key_hash,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        fingerprint=crypto.fingerprint(leaf),
        pem=crypto.pem_of(leaf),
        key_sealed="",
    )
    request = EvCertificateRequest.objects.create(
        charger=charger,
        action="install",
        provider="local",
        emaid=contract.emaid,
        status="accepted",
        contract=contract,
    )
    return {"contract_certificate": contract, "ev_certificate_request": request}
