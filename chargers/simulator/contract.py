"""A Plug & Charge EV's contract, as the simulator's ISO 15118 car keeps it.

Real EVs speak EXI with the charger, and the charger forwards that EXI to the CSMS. The
simulator speaks the CSMS's documented stand-in instead (`cpms-local-15118/1`: base64 of a
JSON envelope; README, Plug & Charge), which only the CSMS's built-in test V2G PKI reads:
the request names the contract (eMAID) and the car's own P-256 public key (standing in for
its OEM provisioning certificate's); the answer carries the contract chain and the contract's
private key encrypted to the car (ECDH with the provider's fresh key, HKDF-SHA256,
AES-256-GCM). This is the car's side, written apart from the server's on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509 import ocsp

LOCAL_FORMAT = "cpms-local-15118/1"
SCHEMA_VERSION = "urn:iso:15118:2:2013:MsgDef"
_KEY_INFO = b"cpms-local-15118 contract key"


def emaid_for(charger_id: str) -> str:
    """A stable eMAID for a simulated charger's car: DE-SIM-C + 8 characters + check."""
    digest = hashlib.sha256(charger_id.encode()).hexdigest().upper()
    return f"DE-SIM-C{digest[:8]}-{digest[8]}"


@dataclass
class Contract:
    emaid: str
    ev_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    chain: list[x509.Certificate] = field(default_factory=list)
    key: ec.EllipticCurvePrivateKey | None = None

    @property
    def installed(self) -> bool:
        return bool(self.chain) and self.key is not None

    def install_request(self) -> str:
        public = self.ev_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        body = {
            "format": LOCAL_FORMAT,
            "emaid": self.emaid,
            "ev_key": base64.b64encode(public).decode(),
        }
        return base64.b64encode(json.dumps(body).encode()).decode()

    def accept(self, exi_response: str) -> str:
        """Install the provider's answer; '' when done, else what is wrong with it."""
        try:
            body = json.loads(base64.b64decode(exi_response))
            chain = x509.load_pem_x509_certificates(body["contract_chain"].encode())
            peer = serialization.load_der_public_key(base64.b64decode(body["dh_public_key"]))
            if not isinstance(peer, ec.EllipticCurvePublicKey):
                return "the provider's key is not EC"
            secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
                self.ev_key.exchange(ec.ECDH(), peer)
            )
            blob = base64.b64decode(body["encrypted_key"])
            der = AESGCM(secret).decrypt(blob[:12], blob[12:], self.emaid.encode())
            key = serialization.load_der_private_key(der, password=None)
        except (ValueError, KeyError, TypeError, InvalidTag) as error:
            return f"unreadable answer: {error!r}"[:200]
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return "the contract key is not EC"
        if key.public_key() != chain[0].public_key():
            return "the contract key does not match its certificate"
        self.chain, self.key = chain, key
        return ""

    @property
    def chain_pem(self) -> str:
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in self.chain)

    def ocsp_data(self) -> list[dict]:
        """OCSPRequestData of the chain's certificates (leaf first) with an issuer in it."""
        found = []
        for certificate, issuer in zip(self.chain, self.chain[1:], strict=False):
            request = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(certificate, issuer, hashes.SHA256())
                .build()
            )
            found.append(
                {
                    "hash_algorithm": "SHA256",
                    "issuer_name_hash": request.issuer_name_hash.hex(),
                    "issuer_key_hash": request.issuer_key_hash.hex(),
                    "serial_number": format(request.serial_number, "x"),
                    "responder_url": "",
                }
            )
        return found
