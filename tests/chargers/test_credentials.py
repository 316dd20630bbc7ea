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


@pytest.mark.parametrize(
    "value,password",
    [
        ("6E65772D70617373776F72642D30303031", "new-password-0001"),  # 17 bytes
        ("6e65772d70617373776f72642d30303031", "new-password-0001"),  # either case
        ("6E65772D7061737377", None),  # 9 bytes: too short
        ("41" * 21, None),  # 21 bytes: too long
        ("6E65772D70617373776F72642D3030303", None),  # an odd digit out
        ("FF" * 16, None),  # not ASCII
        ("0A" * 16, None),  # not printable
        ("not-hex-at-all-0000", None),
    ],
)
def test_a_hex_key_is_read_as_the_whitepaper_writes_it(value, password):
    assert credentials.password_of_hex_key(value) == password


def test_a_generated_password_fits_a_16_charger_and_comes_back_from_its_key():
    password = credentials.generate()
    assert credentials.validate(password) is None
    assert credentials.password_of_hex_key(credentials.hex_key(password)) == password
