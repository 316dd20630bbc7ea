"""Plug & Charge's X.509 and OCSP work with `cryptography`, no database: the built-in test V2G
PKI (a V2G root and the mobility operator sub-CA under it), contract certificates (CN = the
eMAID, EC P-256 as ISO 15118-2 uses), chain validation to trusted roots, OCSP identities (RFC
6960 hashes, as OCPP's OCSPRequestData carries them), requests and responses, and the local
provider's envelope (see `LOCAL_FORMAT`)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext

from chargers.certificates import crypto

# ISO 15118-2 contract certificates live at most two years, their MO sub-CA four.
CONTRACT_DAYS = 2 * 365
MO_DAYS = 4 * 365
# The CPO sub-CA that signs chargers' SECC certificates (ISO 15118-2's CPO Sub-CA).
CPO_DAYS = 4 * 365
ROOT_DAYS = 10 * 365
# How long a built-in OCSP response may be relied on (its nextUpdate); cached that long.
OCSP_VALIDITY = timedelta(hours=1)
# eMAID (ISO 15118-2 annex H / DIN SPEC 91286): country, provider, 'C' + 8, check character;
# the dashes are optional.
EMAID = re.compile(r"^[A-Z]{2}-?[A-Z0-9]{3}-?[A-Z0-9]{9}(-?[A-Z0-9])?$")
# The built-in provider's stand-in for ISO 15118 EXI (see the README's Plug & Charge section):
# base64 of a JSON envelope. A real vehicle speaks EXI and needs a real provider.
LOCAL_FORMAT = "cpms-local-15118/1"
_KEY_INFO = b"cpms-local-15118 contract key"


class ContractStatus(StrEnum):
    """A contract certificate's verdict, in domain words (OCPP's enum is the protocol layer's)."""

    ACCEPTED = "accepted"
    SIGNATURE_ERROR = "signature_error"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NO_CERTIFICATE = "no_certificate"
    CHAIN_ERROR = "chain_error"
    CONTRACT_CANCELLED = "contract_cancelled"


def emaid_problem(emaid: str) -> str:
    if not EMAID.match(emaid or ""):
        return gettext("Not an eMAID (like DE-ABC-C12345678-9).")
    return ""


# --- The built-in PKI ---------------------------------------------------------------------


def new_pki(*, organization: str, now: datetime) -> crypto.RootAndSubCa:
    """A self-signed V2G root (test, not the industry's) and an MO sub-CA it signs."""
    return crypto.root_and_sub_ca(
        root_name=crypto.name(f"{organization} V2G Root CA (test)", organization),
        sub_name=crypto.name(f"{organization} MO Sub-CA", organization),
        now=now,
        root_days=ROOT_DAYS,
        sub_days=MO_DAYS,
    )


def organization(certificate: x509.Certificate) -> str:
    values = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(values[0].value) if values else ""


def issue_contract(
    *,
    emaid: str,
    public_key: ec.EllipticCurvePublicKey,
    mo: x509.Certificate,
    mo_key: crypto.PrivateKey,
    now: datetime,
    days: int = CONTRACT_DAYS,
) -> x509.Certificate:
    """A contract certificate for `emaid`, never valid past its MO sub-CA."""
    return (
        x509.CertificateBuilder()
        .subject_name(crypto.name(emaid, organization(mo)))
        .issuer_name(mo.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - crypto.BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), mo.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(mo_key.public_key()),
            critical=False,
        )
        .sign(mo_key, hashes.SHA256())
    )


# --- OCSP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OcspId:
    """A certificate as OCSP (and OCPP's OCSPRequestData) names it: SHA-256 of its issuer's
    name and of its issuer's public key bits (RFC 6960), its serial, lower-case hex."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial: str
    responder_url: str = ""

    @classmethod
    def of(cls, certificate: x509.Certificate, issuer: x509.Certificate) -> OcspId:
        data = crypto.hash_data(certificate, issuer)
        return cls(data.issuer_name_hash, data.issuer_key_hash, data.serial_number)

    @classmethod
    def parse(
        cls, *, issuer_name_hash: str, issuer_key_hash: str, serial: str, url: str = ""
    ) -> OcspId:
        """From a charger's fields; ValueError when they are not SHA-256 hex and a hex serial."""
        name, key = issuer_name_hash.strip().lower(), issuer_key_hash.strip().lower()
        number = serial.strip().lower().lstrip("0") or "0"
        if len(name) != 64 or len(key) != 64:
            raise ValueError("the issuer hashes are not SHA-256 (64 hex digits)")
        try:
            bytes.fromhex(name + key)
            int(number, 16)
        except ValueError:
            raise ValueError("the hashes or the serial number are not hexadecimal") from None
        return cls(name, key, number, url)

    def request_der(self) -> bytes:
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(
                bytes.fromhex(self.issuer_name_hash),
                bytes.fromhex(self.issuer_key_hash),
                int(self.serial, 16),
                hashes.SHA256(),
            )
            .build()
        )
        return request.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class OcspAnswer:
    """An OCSP response (DER) and what it says: good, revoked or unknown; '' when unusable."""

    der: bytes
    cert_status: str
    next_update: datetime | None


def ocsp_sign(
    *,
    ident: OcspId,
    revoked_at: datetime | None,
    known: bool,
    responder: x509.Certificate,
    responder_key: crypto.PrivateKey,
    now: datetime,
) -> OcspAnswer:
    """A response signed by the issuing CA itself (no delegated responder certificate)."""
    if not known:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif revoked_at is not None:
        status = ocsp.OCSPCertStatus.REVOKED
    else:
        status = ocsp.OCSPCertStatus.GOOD
    next_update = now + OCSP_VALIDITY
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=bytes.fromhex(ident.issuer_name_hash),
            issuer_key_hash=bytes.fromhex(ident.issuer_key_hash),
            serial_number=int(ident.serial, 16),
            algorithm=hashes.SHA256(),
            cert_status=status,
            this_update=now,
            next_update=next_update,
            revocation_time=revoked_at if status == ocsp.OCSPCertStatus.REVOKED else None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
        .certificates([responder])
        .sign(responder_key, hashes.SHA256())
    )
    return OcspAnswer(
        response.public_bytes(serialization.Encoding.DER), status.name.lower(), next_update
    )


def ocsp_unauthorized() -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    ).public_bytes(serialization.Encoding.DER)


def ocsp_read(der: bytes, *, ident: OcspId) -> OcspAnswer:
    """What a responder's DER says about `ident` (ValueError when it does not parse or speaks
    of another certificate). The signature is the responder's business with the charger, which
    checks it against the issuer it trusts; we read the status."""
    response = ocsp.load_der_ocsp_response(der)
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return OcspAnswer(der, "", None)
    for single in response.responses:
        if (
            single.issuer_key_hash.hex() == ident.issuer_key_hash
            and format(single.serial_number, "x") == ident.serial
        ):
            return OcspAnswer(der, single.certificate_status.name.lower(), single.next_update_utc)
    raise ValueError("the OCSP response is about another certificate")


# --- Chains -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainVerdict:
    status: ContractStatus
    problem: str = ""
    leaf: x509.Certificate | None = None
    issuer: x509.Certificate | None = None

    @property
    def emaid(self) -> str:
        return crypto.common_name(self.leaf.subject) if self.leaf is not None else ""


def load_chain(pem: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; CertificateError when none parses."""
    try:
        found = x509.load_pem_x509_certificates(pem.strip().encode())
    except ValueError:
        raise crypto.CertificateError("not a PEM certificate chain") from None
    return found


def verify_chain(
    chain: list[x509.Certificate], *, roots: list[x509.Certificate], now: datetime
) -> ChainVerdict:
    """Leaf first, each signed by the next, the last by (or being) one of `roots`; every
    certificate within its validity; the leaf no CA."""
    leaf = chain[0]
    path = list(chain)
    by_subject = {root.subject.public_bytes(): root for root in roots}
    if path[-1].subject.public_bytes() not in by_subject or path[-1] not in roots:
        anchor = by_subject.get(path[-1].issuer.public_bytes())
        if anchor is None:
            return ChainVerdict(
                ContractStatus.CHAIN_ERROR, "the chain does not lead to a trusted V2G root", leaf
            )
        path.append(anchor)
    for child, parent in zip(path, path[1:], strict=False):
        try:
            child.verify_directly_issued_by(parent)
        except InvalidSignature:
            return ChainVerdict(
                ContractStatus.SIGNATURE_ERROR, "a signature in the chain does not verify", leaf
            )
        except (ValueError, TypeError):
            return ChainVerdict(
                ContractStatus.CHAIN_ERROR, "a certificate is not issued by the next", leaf
            )
    for certificate in path:
        if not certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc:
            subject = crypto.common_name(certificate.subject)
            return ChainVerdict(
                ContractStatus.EXPIRED, f"{subject[:60]} is not valid now", leaf, path[1]
            )
    return ChainVerdict(ContractStatus.ACCEPTED, "", leaf, path[1])


# --- The local provider's envelope --------------------------------------------------------------


class EnvelopeError(ValueError):
    """A local-provider request that cannot be read; the message says why."""


@dataclass(frozen=True)
class LocalRequest:
    """What the built-in provider reads from `exiRequest`: the contract asked for and the
    EV's public key (its stand-in for the OEM provisioning certificate's key), to which the
    new contract key is encrypted."""

    emaid: str
    ev_public_key: ec.EllipticCurvePublicKey


def read_local_request(exi_request: str) -> LocalRequest:
    try:
        body = json.loads(base64.b64decode(exi_request, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise EnvelopeError(
            f"not base64 of a {LOCAL_FORMAT} envelope (a real EV's EXI needs a real provider)"
        ) from None
    if not isinstance(body, dict) or body.get("format") != LOCAL_FORMAT:
        raise EnvelopeError(f"not a {LOCAL_FORMAT} envelope (a real EV needs a real provider)")
    emaid = str(body.get("emaid") or "")
    problem = emaid_problem(emaid)
    if problem:
        raise EnvelopeError(f"emaid: {problem}")
    try:
        key = serialization.load_der_public_key(base64.b64decode(str(body.get("ev_key"))))
    except (binascii.Error, ValueError):
        raise EnvelopeError("ev_key: not a base64 DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise EnvelopeError("ev_key: ISO 15118-2 keys are EC P-256")
    return LocalRequest(emaid=emaid, ev_public_key=key)


def local_response(
    *,
    emaid: str,
    chain: list[x509.Certificate],
    contract_key: ec.EllipticCurvePrivateKey,
    ev_public_key: ec.EllipticCurvePublicKey,
) -> str:
    """The envelope's answer: the contract chain (leaf, MO sub-CA) and the contract key
    encrypted to the EV (ECDH with a fresh key, HKDF-SHA256, AES-256-GCM), as ISO 15118-2's
    CertificateInstallationRes carries it encrypted to the OEM provisioning key."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        ephemeral.exchange(ec.ECDH(), ev_public_key)
    )
    nonce = os.urandom(12)
    der = contract_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = {
        "format": LOCAL_FORMAT,
        "emaid": emaid,
        "contract_chain": "".join(crypto.pem_of(c) for c in chain),
        "dh_public_key": base64.b64encode(
            ephemeral.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode(),
        "encrypted_key": base64.b64encode(
            nonce + AESGCM(secret).encrypt(nonce, der, emaid.encode())
        ).decode(),
    }
    return base64.b64encode(json.dumps(body).encode()).decode()


def open_contract_key(body: dict, ev_key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePrivateKey:
    """The EV's side of `local_response` (used by tests; the simulator has its own copy)."""
    peer = serialization.load_der_public_key(base64.b64decode(body["dh_public_key"]))
    secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        ev_key.exchange(ec.ECDH(), peer)  # type: ignore[arg-type]
    )
    blob = base64.b64decode(body["encrypted_key"])
    try:
        der = AESGCM(secret).decrypt(blob[:12], blob[12:], body["emaid"].encode())
    except InvalidTag:
        raise EnvelopeError("the contract key does not open with this EV's key") from None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise EnvelopeError("the contract key is not EC")
    return key
