"""The X.509 work without a database: keys sealed at rest, CSR checks, signing, hash data."""

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

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


def test_hash_data_are_the_issuers_name_and_key_and_the_serial():
    made = crypto.new_authority(organization="Tenant A", now=NOW)

    data = crypto.hash_data(made.root)

    assert data.serial_number == format(made.root.serial_number, "x")
    assert len(data.issuer_name_hash) == len(data.issuer_key_hash) == 64
