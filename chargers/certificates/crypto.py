"""X.509 with `cryptography`, no database: the tenant's CA (a root and the CPO sub-CA under it),
private keys encrypted at rest, CSR checks, signing, and the identities OCPP gives certificates
(SHA-256 fingerprints and the hash data InstallCertificate and DeleteCertificate name)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
# What a leaf is valid for; the sub-CA and root live longer so leaves are renewed under them.
LEAF_DAYS = 365
SUB_CA_DAYS = 4 * 365
ROOT_DAYS = 10 * 365
# A small allowance for chargers whose clocks run a little behind.
BACKDATE = timedelta(minutes=5)
_NONCE = 12
_KEY_VERSION = b"v1:"


class CertificateError(ValueError):
    """A certificate, key or CSR that cannot be used; the message says why."""


# --- Keys at rest ---------------------------------------------------------------------------


def _key_encryption_key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cpms certificates key at rest"
    ).derive(secret.encode())


def encrypt_key(key: PrivateKey, *, secret: str, context: bytes) -> str:
    """The key's PKCS#8 DER under AES-GCM with a key derived from `secret` (HKDF); `context`
    (the tenant) is authenticated, so a key copied to another tenant's row does not open."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_key_encryption_key(secret)).encrypt(nonce, der, context)
    return (_KEY_VERSION + base64.b64encode(nonce + sealed)).decode()


def decrypt_key(sealed: str, *, secret: str, context: bytes) -> PrivateKey:
    raw = sealed.encode()
    if not raw.startswith(_KEY_VERSION):
        raise CertificateError("The stored key is in an unknown format.")
    blob = base64.b64decode(raw.removeprefix(_KEY_VERSION))
    try:
        der = AESGCM(_key_encryption_key(secret)).decrypt(blob[:_NONCE], blob[_NONCE:], context)
    except InvalidTag:
        raise CertificateError(
            "The stored key does not open with this key-encryption key."
        ) from None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError("The stored key is neither RSA nor EC.")
    return key


def seal_text(text: str, *, secret: str, context: bytes) -> str:
    """A secret (a provider's password) sealed as keys are; '' stays ''."""
    if not text:
        return ""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_key_encryption_key(secret)).encrypt(nonce, text.encode(), context)
    return (_KEY_VERSION + base64.b64encode(nonce + sealed)).decode()


def open_text(sealed: str, *, secret: str, context: bytes) -> str:
    if not sealed:
        return ""
    blob = base64.b64decode(sealed.encode().removeprefix(_KEY_VERSION))
    try:
        return (
            AESGCM(_key_encryption_key(secret))
            .decrypt(blob[:_NONCE], blob[_NONCE:], context)
            .decode()
        )
    except InvalidTag:
        raise CertificateError("The stored secret does not open with this key.") from None


# --- Reading ------------------------------------------------------------------------------


def pem_of(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def load_certificates(pem: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise CertificateError("Not a PEM certificate.") from None
    return found


def load_private_key(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise CertificateError("Not an unencrypted PEM private key.") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError("The key must be RSA or EC.")
    return key


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER, lower-case hex: what profile 3 pins and the proxy passes on."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


@dataclass(frozen=True)
class HashData:
    """A certificate as OCPP names it (SHA-256 of its issuer's name and key, its serial)."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    hash_algorithm: str = "SHA256"


def _der_element(der: bytes, at: int) -> tuple[int, int, int]:
    """The DER element at `at`: (tag, where its value starts, where it ends)."""
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(der[at : at + count], "big"), at + count
    return tag, at, at + length


def public_key_bits(certificate: x509.Certificate) -> bytes:
    """The value of the subjectPublicKey BIT STRING (no tag, length or unused-bits byte): what
    RFC 6960's issuerKeyHash and OCPP's issuerKeyHash hash. Read from the SubjectPublicKeyInfo
    itself, so it is right for any key type and a compressed EC point alike."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, start, _ = _der_element(spki, 0)  # SEQUENCE { algorithm, subjectPublicKey }
    _, _, algorithm_end = _der_element(spki, start)
    tag, bits_start, bits_end = _der_element(spki, algorithm_end)
    if tag != 0x03:
        raise CertificateError("The public key is not a BIT STRING.")
    return spki[bits_start + 1 : bits_end]


def issuer_hashes(issuer: x509.Certificate) -> tuple[str, str]:
    """(issuerNameHash, issuerKeyHash) in the hash data of any certificate `issuer` signed."""
    return (
        hashlib.sha256(issuer.subject.public_bytes()).hexdigest(),
        hashlib.sha256(public_key_bits(issuer)).hexdigest(),
    )


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate | None = None) -> HashData:
    """`issuer` is the certificate that signed it (itself for a root): SHA-256 of the DER
    issuer name and of the issuer's public key bits (RFC 6960 CertID, OCPP CertificateHashData)."""
    return HashData(
        issuer_name_hash=hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        issuer_key_hash=hashlib.sha256(public_key_bits(issuer or certificate)).hexdigest(),
        serial_number=format(certificate.serial_number, "x"),
    )


# --- Certificate signing requests -------------------------------------------------------------


@dataclass(frozen=True)
class CsrCheck:
    """A CSR's verdict: `problem` is empty when it may be signed."""

    problem: str
    csr: x509.CertificateSigningRequest | None = None


def key_problem(public_key: object) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            return f"RSA key of {public_key.key_size} bits; at least {MIN_RSA_BITS} needed"
        return ""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < MIN_EC_BITS:
            return f"EC key on {public_key.curve.name}; P-256 or stronger needed"
        return ""
    return "the key is neither RSA nor EC"


def _signed_csr(pem: str) -> CsrCheck:
    """The CSR parsed with its own signature verified, or the problem."""
    try:
        csr = x509.load_pem_x509_csr(pem.strip().encode())
    except ValueError:
        return CsrCheck("not a PEM certificate signing request")
    try:
        signed = csr.is_signature_valid
    except (InvalidSignature, ValueError):  # an algorithm cryptography cannot check
        signed = False
    if not signed:
        return CsrCheck("the CSR's signature does not verify")
    return CsrCheck("", csr)


def check_csr(pem: str, *, identity: str) -> CsrCheck:
    """Parse the CSR and check its signature, that its CN is the charger's id and that its key is
    strong enough (RSA >= 2048 bits, EC >= P-256)."""
    parsed = _signed_csr(pem)
    if parsed.csr is None:
        return parsed
    name = common_name(parsed.csr.subject)
    if name != identity:
        return CsrCheck(f"the CSR's CN is {name[:60]!r}, not the charger's id {identity!r}")
    problem = key_problem(parsed.csr.public_key())
    return CsrCheck(problem, None if problem else parsed.csr)


def check_v2g_csr(pem: str) -> CsrCheck:
    """A charger's V2G (SECC) CSR: its signature, a CN (the SECC's id, which ISO 15118-2 leaves
    to the operator, so it need not be the charge point id) and an EC P-256 key, the only
    curve ISO 15118-2 allows."""
    parsed = _signed_csr(pem)
    if parsed.csr is None:
        return parsed
    if not common_name(parsed.csr.subject):
        return CsrCheck("the CSR has no CN (the SECC's id)")
    key = parsed.csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return CsrCheck("ISO 15118-2 V2G certificates need an EC P-256 (secp256r1) key")
    return parsed


# --- Signing ------------------------------------------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(common: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
        ]
    )


def ca_certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: PrivateKey,
    now: datetime,
    days: int,
    path_length: int,
    issuer_key: object,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key),  # type: ignore[arg-type]
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


@dataclass(frozen=True)
class RootAndSubCa:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    sub_ca: x509.Certificate
    sub_ca_key: ec.EllipticCurvePrivateKey


def root_and_sub_ca(
    *, root_name: x509.Name, sub_name: x509.Name, now: datetime, root_days: int, sub_days: int
) -> RootAndSubCa:
    """A self-signed root (one CA level below it) and a sub-CA it signs, which signs leaves."""
    root_key, sub_key = new_key(), new_key()
    root = ca_certificate(
        subject=root_name,
        issuer=root_name,
        public_key=root_key.public_key(),
        signing_key=root_key,
        now=now,
        days=root_days,
        path_length=1,
        issuer_key=None,
    )
    sub_ca = sub_ca_certificate(
        subject=sub_name,
        public_key=sub_key.public_key(),
        issuer=root,
        issuer_key=root_key,
        now=now,
        days=sub_days,
    )
    return RootAndSubCa(root=root, root_key=root_key, sub_ca=sub_ca, sub_ca_key=sub_key)


def sub_ca_certificate(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    now: datetime,
    days: int,
) -> x509.Certificate:
    """A CA signing leaves only (path length 0), never valid past its issuer."""
    end = min(now + timedelta(days=days), issuer.not_valid_after_utc)
    return ca_certificate(
        subject=subject,
        issuer=issuer.subject,
        public_key=public_key,
        signing_key=issuer_key,
        now=now,
        days=(end - now).days,
        path_length=0,
        issuer_key=issuer_key.public_key(),
    )


def new_authority(*, organization: str, now: datetime) -> RootAndSubCa:
    """A self-signed tenant root and the CPO sub-CA it signs (which signs the chargers). The
    caller keeps the sub-CA's key only: replacing the sub-CA means a new root, or an import."""
    return root_and_sub_ca(
        root_name=name(f"{organization} Root CA", organization),
        sub_name=name(f"{organization} CPO Sub-CA", organization),
        now=now,
        root_days=ROOT_DAYS,
        sub_days=SUB_CA_DAYS,
    )


def check_authority(certificate: x509.Certificate, key: PrivateKey, *, now: datetime) -> str:
    """Why an imported CA certificate and key cannot sign chargers' certificates, or ''."""
    ours = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if ours != theirs:
        return "the key does not belong to the certificate"
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return "the certificate is not a CA (no basic constraints)"
    if not constraints.value.ca:
        return "the certificate is not a CA"
    if certificate.not_valid_after_utc <= now:
        return "the certificate has expired"
    return key_problem(certificate.public_key())


def sign_csr(
    csr: x509.CertificateSigningRequest,
    *,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    now: datetime,
    days: int = LEAF_DAYS,
    v2g: bool = False,
) -> x509.Certificate:
    """A certificate for the CSR's key and subject, never valid past its issuer: a charging
    station's (TLS client) or, `v2g`, an SECC's (ISO 15118-2: digital signature and key
    agreement, no extended key usage)."""
    not_after = min(now + timedelta(days=days), issuer.not_valid_after_utc)
    public_key = csr.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not v2g and isinstance(public_key, rsa.RSAPublicKey),
                data_encipherment=False,
                key_agreement=isinstance(public_key, ec.EllipticCurvePublicKey),
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not v2g:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())
