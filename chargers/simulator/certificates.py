"""The charger's certificate store (OCPP 1.6 security extension and 2.0.1 alike).

Certificates are kept as the PEM text the CSMS sent; their hash data (what
GetInstalledCertificateIds reports and DeleteCertificate names) is derived from that text, so
the same certificate always has the same id. A load simulator has no use for real X.509
parsing; a real charger would hash the issuer's name and key instead.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


@dataclass
class Certificate:
    type: str
    pem: str

    @property
    def hash_data(self) -> dict:
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


class Certificates:
    def __init__(self, charger_id: str):
        self.charger_id = charger_id
        self.installed: list[Certificate] = []
        # The charger's own certificate, once the CSMS signed one (CertificateSigned).
        self.own: dict[str, str] = {}

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
        """CertificateSigned: the charger installs the chain the CSMS had signed."""
        if not chain.lstrip().startswith(PEM_CERTIFICATE):
            return "Rejected"
        self.own[certificate_type] = chain
        return "Accepted"

    def csr(self, certificate_type: str = "ChargingStationCertificate") -> str:
        """A PEM-encoded certificate signing request naming this charger."""
        subject = f"CN={self.charger_id},O=CPMS-Sim,type={certificate_type}".encode()
        body = base64.b64encode(subject + hashlib.sha256(subject).digest()).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join(
            ["-----BEGIN CERTIFICATE REQUEST-----", *lines, "-----END CERTIFICATE REQUEST-----"]
        )
