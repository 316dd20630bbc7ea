"""The X.509 work without a database: keys sealed at rest, CSR checks, signing, hash data."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from chargers.certificates import crypto
from tests.chargers.certificates.pki import csr, weak_csr

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_sealed_key_opens_with_the_same_secret_and_tenant_only():
    key = crypto.new_key()
    sealed = crypto.encrypt_key(key, secret="s3cret", context=b"tenant:1")

    opened = crypto.decrypt_key(sealed, secret="s3cret", context=b"tenant:1")

    assert opened.private_numbers() == key.private_numbers()
    assert "PRIVATE" not in sealed
    with pytest.raises(crypto.CertificateError):
        crypto.decrypt_key(sealed, secret="other", context=b"tenant:1")
    with pytest.raises(crypto.CertificateError):
        crypto.decrypt_key(sealed, secret="s3cret", context=b"tenant:2")


@pytest.mark.parametrize(
    ("pem", "problem"),
    [
        (lambda: csr("CP-1"), ""),
        (lambda: csr("CP-2"), "the CSR's CN is 'CP-2', not the charger's id 'CP-1'"),
        (lambda: weak_csr("CP-1"), "RSA key of 1024 bits; at least 2048 needed"),
        (
            lambda: csr("CP-1", ec.generate_private_key(ec.SECP192R1())),
            "EC key on secp192r1; P-256 or stronger needed",
        ),
        (lambda: "garbage", "not a PEM certificate signing request"),
    ],
    ids=["good", "other-id", "weak-rsa", "weak-ec", "garbage"],
)
def test_a_csr_is_checked(pem, problem):
    assert crypto.check_csr(pem(), identity="CP-1").problem == problem


def test_a_leaf_is_signed_by_the_sub_ca_and_never_outlives_it():
    made = crypto.new_authority(organization="Tenant A", now=NOW)
    request = crypto.check_csr(csr("CP-1"), identity="CP-1").csr

    leaf = crypto.sign_csr(
        request, issuer=made.sub_ca, issuer_key=made.sub_ca_key, now=NOW, days=100 * 365
    )

    leaf.verify_directly_issued_by(made.sub_ca)
    made.sub_ca.verify_directly_issued_by(made.root)
    assert leaf.not_valid_after_utc == made.sub_ca.not_valid_after_utc
    assert crypto.common_name(leaf.subject) == "CP-1"


def test_an_import_must_be_a_ca_with_its_own_key():
    made = crypto.new_authority(organization="Tenant A", now=NOW)
    other = crypto.new_key()

    assert crypto.check_authority(made.sub_ca, made.sub_ca_key, now=NOW) == ""
    assert crypto.check_authority(made.sub_ca, other, now=NOW) == (
        "the key does not belong to the certificate"
    )


def cert_id(certificate, issuer):
    """RFC 6960's CertID as `cryptography` builds it, independently of our code."""
    return ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256()).build()


def test_hash_data_of_a_root_are_its_certid():
    made = crypto.new_authority(organization="Tenant A", now=NOW)

    data = crypto.hash_data(made.root)

    expected = cert_id(made.root, made.root)
    assert data.issuer_name_hash == expected.issuer_name_hash.hex()
    assert data.issuer_key_hash == expected.issuer_key_hash.hex()
    assert data.serial_number == format(made.root.serial_number, "x")


def test_hash_data_of_a_signed_certificate_name_its_issuer_as_its_certid_does():
    made = crypto.new_authority(organization="Tenant A", now=NOW)
    leaf = crypto.sign_csr(
        crypto.check_csr(csr("CP-1"), identity="CP-1").csr,
        issuer=made.sub_ca,
        issuer_key=made.sub_ca_key,
        now=NOW,
    )

    data = crypto.hash_data(leaf, made.sub_ca)

    expected = cert_id(leaf, made.sub_ca)
    assert (data.issuer_name_hash, data.issuer_key_hash) == (
        expected.issuer_name_hash.hex(),
        expected.issuer_key_hash.hex(),
    )
    assert crypto.issuer_hashes(made.sub_ca) == (data.issuer_name_hash, data.issuer_key_hash)
    # Not the hash of the whole SubjectPublicKeyInfo, as it was once.
    spki = made.sub_ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert data.issuer_key_hash != hashlib.sha256(spki).hexdigest()


def test_hash_data_of_an_rsa_root_are_its_certid():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "RSA Root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )

    data = crypto.hash_data(root)

    assert data.issuer_key_hash == cert_id(root, root).issuer_key_hash.hex()
