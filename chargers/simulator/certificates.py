"""The charger's certificate store (OCPP 1.6 security extension and 2.0.1 alike).

The charger makes its own key (EC P-256) and a real CSR naming its id for SignCertificate, and
keeps the chain the CSMS sends back (CertificateSigned) when it is for that key. Root
certificates are kept as the PEM text the CSMS sent; their hash data (what
GetInstalledCertificateIds reports and DeleteCertificate names) are the X.509 ones (SHA-256 of
the issuer's name and of its public key's bits, the serial) for a certificate that parses, and
derived from the text otherwise, so the same certificate always has the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def x509_hash_data(pem: str) -> dict | None:
    """OCPP hash data of a (self-signed root) certificate, or None if it does not parse: the
    RFC 6960 CertID's hashes (of the issuer's DER name and its public key's bits), as
    `cryptography`'s OCSP request builder makes them."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
    cert_id = (
        ocsp.OCSPRequestBuilder().add_certificate(certificate, certificate, hashes.SHA256()).build()
    )
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": cert_id.issuer_name_hash.hex(),
        "issuer_key_hash": cert_id.issuer_key_hash.hex(),
        "serial_number": format(certificate.serial_number, "x"),
    }


@dataclass
class Certificate:
    type: str
    pem: str

    @property
    def hash_data(self) -> dict:
        parsed = x509_hash_data(self.pem)
        if parsed is not None:
            return parsed
        digest = hashlib.sha256(self.pem.encode()).hexdigest()
        return {
            "hash_algorithm": "SHA256",
            "issuer_name_hash": digest[:64],
            "issuer_key_hash": hashlib.sha256(digest.encode()).hexdigest()[:64],
            "serial_number": digest[:20],
        }


def same_certificate(a: dict, b: dict) -> bool:
    keys = ("hash_algorithm", "issuer_name_hash", "issuer_key_hash", "serial_number")
    return all(a.get(key) == b.get(key) for key in keys)


def _leaf_of(chain: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificates(chain.encode())[0]
    except (ValueError, IndexError):
        return None


class Certificates:
    def __init__(self, charger_id: str):
        self.charger_id = charger_id
        self.installed: list[Certificate] = []
        # The charger's own certificate, once the CSMS signed one (CertificateSigned).
        self.own: dict[str, str] = {}
        # The key of the latest CSR, per certificate type, until its certificate arrives.
        self._pending: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}

    def install(self, certificate_type: str, pem: str) -> str:
        """InstallCertificate: Accepted, or Rejected for something that is not a PEM."""
        if not pem.lstrip().startswith(PEM_CERTIFICATE):
            return "Rejected"
        self.installed = [c for c in self.installed if c.pem != pem]
        self.installed.append(Certificate(certificate_type, pem))
        return "Accepted"

    def of_types(self, types: list[str] | None) -> list[Certificate]:
        return [c for c in self.installed if not types or c.type in types]

    def delete(self, hash_data: dict) -> str:
        """DeleteCertificate: Accepted or NotFound."""
        for certificate in self.installed:
            if same_certificate(certificate.hash_data, hash_data):
                self.installed.remove(certificate)
                return "Accepted"
        return "NotFound"

    def signed(self, chain: str, certificate_type: str = "ChargingStationCertificate") -> str:
        """CertificateSigned: the charger installs a chain whose leaf is for the key of its
        latest CSR (with no CSR pending, any PEM chain, as before)."""
        if not chain.lstrip().startswith(PEM_CERTIFICATE):
            return "Rejected"
        key = self._pending.get(certificate_type)
        if key is not None:
            leaf = _leaf_of(chain)
            if leaf is None or leaf.public_key() != key.public_key():
                return "Rejected"
            self.keys[certificate_type] = self._pending.pop(certificate_type)
        self.own[certificate_type] = chain
        return "Accepted"

    def own_certificate(self, certificate_type: str = "ChargingStationCertificate"):
        """The leaf of the charger's own chain (an x509.Certificate), or None."""
        chain = self.own.get(certificate_type)
        return _leaf_of(chain) if chain else None

    def tls_identity(self) -> tuple[str, str] | None:
        """(chain, key) in PEM of the charging station certificate the CSMS signed for a key
        of ours, for TLS client authentication; None before there is one."""
        chain = self.own.get("ChargingStationCertificate")
        key = self.keys.get("ChargingStationCertificate")
        if not chain or key is None:
            return None
        pem_key = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return chain, pem_key.decode()

    def csr(self, certificate_type: str = "ChargingStationCertificate") -> str:
        """A PEM-encoded certificate signing request for a new key, naming this charger."""
        key = ec.generate_private_key(ec.SECP256R1())
        self._pending[certificate_type] = key
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CPMS-Sim"),
                x509.NameAttribute(NameOID.COMMON_NAME, self.charger_id[:64]),
            ]
        )
        request = x509.CertificateSigningRequestBuilder().subject_name(subject)
        return request.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
