"""Charger credentials without a database: what the TLS proxy passes on, read exactly."""

import base64
import hashlib
from urllib.parse import quote

import pytest

from chargers import credentials


@pytest.mark.parametrize(
    "subject,names",
    [
        ("CN=CP-1,O=Example Charging,C=DE", ["CP-1"]),
        ("C=DE,O=Example,CN=CP-1", ["CP-1"]),
        ("cn=CP-1", ["CP-1"]),
        ("2.5.4.3=CP-1", ["CP-1"]),
        (r"CN=Site 1/Bay #2,O=Mall", ["Site 1/Bay #2"]),
        (r"CN=a\,b\+c\;d,O=x", ["a,b+c;d"]),
        (r"CN=\#1\20", ["#1 "]),
        (r"CN=Ladestation M\C3\BCller", ["Ladestation Müller"]),
        ("CN=CP-1+serialNumber=42,O=x", ["CP-1"]),
        ("CN=CP-1,CN=CP-2", ["CP-1", "CP-2"]),
        ("O=Example Charging", []),
        ("", []),
    ],
)
def test_it_reads_the_common_names_of_a_subject(subject, names):
    assert credentials.common_names(subject) == names


@pytest.mark.parametrize("subject", ["CP-1", "CN=CP-1,junk", "CN=trailing\\", r"CN=\FF"])
def test_a_subject_that_is_not_a_distinguished_name_is_an_error(subject):
    with pytest.raises(ValueError):
        credentials.common_names(subject)


def test_it_hashes_the_der_of_nginx_escaped_pem():
    der = bytes(range(256)) * 3
    pem = (
        "-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(der).decode()
        + "-----END CERTIFICATE-----\n"
    )
    assert credentials.certificate_fingerprint(quote(pem, safe="")) == (
        hashlib.sha256(der).hexdigest()
    )


@pytest.mark.parametrize("value", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\n!!"])
def test_an_unreadable_certificate_has_no_fingerprint(value):
    assert credentials.certificate_fingerprint(value) is None


DIGEST = "ab" * 32


@pytest.mark.parametrize(
    "given",
    [
        DIGEST,
        DIGEST.upper(),
        ":".join(["AB"] * 32),
        "sha256 Fingerprint=" + ":".join(["AB"] * 32),
        f"  {DIGEST}\n",
    ],
)
def test_a_fingerprint_is_stored_as_lowercase_hex(given):
    assert credentials.normalize_fingerprint(given) == DIGEST


def test_an_empty_fingerprint_unpins():
    assert credentials.normalize_fingerprint("") == ""


@pytest.mark.parametrize("given", ["ab" * 20, "zz" * 32, "ab" * 33])
def test_a_fingerprint_that_is_not_sha256_is_refused_with_the_expected_form(given):
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        credentials.normalize_fingerprint(given)
