"""Tenant A's certificate rows for the shared `world` fixture (tests/conftest.py): its CA, a
certificate issued to the charger, the request it answered, a root the charger holds and the
operation that installed it. Called inside tenant A's scope."""

from django.utils import timezone

from chargers.certificates import crypto
from chargers.certificates.models import (
    CertificateOperation,
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
        "issued_certificate": issued,
        "signing_request": request,
        "installed_certificate": installed,
        "certificate_operation": operation,
        "root_pem": crypto.pem_of(root),
    }
