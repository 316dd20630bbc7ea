"""Charger credentials: passwords (stored with `cpms.hashing`) for security profiles 1 and 2,
and the client certificate a TLS proxy verified for profile 3.

Chargers authenticate on every connection and their keys are long machine-generated secrets
(16-40 characters), so a slow password hash buys nothing and would cost minutes of CPU when a
whole fleet reconnects after a restart. People's passwords keep Django's slow hasher.
"""

import base64
import binascii
import hashlib
import secrets
from string import hexdigits
from urllib.parse import unquote

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MIN_LENGTH, MAX_LENGTH = 16, 40


def generate() -> str:
    """A new charger password: 20 characters (120 random bits) of the OCPP 2.0.1
    passwordString alphabet, which fit a 1.6 charger's key too (`hex_key`)."""
    return secrets.token_urlsafe(15)


# OCPP 1.6's security whitepaper sends a charger its basic-auth password as the hexadecimal
# representation of 16 to 20 bytes (at most 40 digits); the charger decodes it and uses the
# bytes as its password. The OCA's test tool reads 32-40 configured characters as hex likewise.
KEY_BYTES = (16, 20)


def hex_key(password: str) -> str:
    """The hexadecimal form in which a 1.6 charger is sent `password`; ValueError when the
    password does not fit one (16 to 20 ASCII characters)."""
    if not password.isascii() or not KEY_BYTES[0] <= len(password) <= KEY_BYTES[1]:
        raise ValueError(
            "A 1.6 charger's password is 16 to 20 ASCII characters (sent hex-encoded)."
        )
    return password.encode("ascii").hex().upper()


def password_of_hex_key(value: str) -> str | None:
    """The password a 1.6 charger uses after accepting the hexadecimal `value`, or None when
    `value` is not such a key."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    if not KEY_BYTES[0] <= len(raw) <= KEY_BYTES[1]:
        return None
    try:
        password = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return password if password.isprintable() else None


def validate(password: str) -> str | None:
    """Why a chosen password is unacceptable, or None."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _("Use %(min)s to %(max)s characters (OCPP security profiles 1 and 2).") % {
            "min": MIN_LENGTH,
            "max": MAX_LENGTH,
        }
    if not password.isascii() or not password.isprintable():
        return _("Use printable ASCII characters only.")
    return None


# --- Client certificates (OCPP security profile 3) ------------------------------------------------
#
# The reverse proxy terminates TLS and verifies the certificate against the operator's CA; the
# server reads what the proxy passes on: the subject as an RFC 4514 string (nginx's
# $ssl_client_s_dn) and the certificate itself, URL-encoded PEM ($ssl_client_escaped_cert).

FINGERPRINT_HELP = gettext_lazy(
    "A SHA-256 fingerprint is 64 hexadecimal digits, colons allowed, as "
    "`openssl x509 -noout -fingerprint -sha256 -in charger.crt` prints it."
)
PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def normalize_fingerprint(value: str) -> str:
    """The stored form of a pinned fingerprint (64 lowercase hex digits, or empty to unpin).

    Raises ValueError naming the expected form.
    """
    # Accept openssl's own output line: "sha256 Fingerprint=AB:CD:...".
    value = value.rpartition("=")[2]
    digits = "".join(value.split()).replace(":", "").lower()
    if digits and (len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits)):
        raise ValueError(str(FINGERPRINT_HELP))
    return digits


def certificate_fingerprint(escaped_pem: str) -> str | None:
    """SHA-256 (hex) of the DER certificate in nginx's URL-encoded PEM, or None if unreadable."""
    pem = unquote(escaped_pem)
    begin, end = pem.find(PEM_BEGIN), pem.find(PEM_END)
    if begin < 0 or end < begin:
        return None
    body = "".join(pem[begin + len(PEM_BEGIN) : end].split())
    try:
        der = base64.b64decode(body, validate=True)
    except binascii.Error:
        return None
    return hashlib.sha256(der).hexdigest() if der else None


def common_names(subject: str) -> list[str]:
    """The CN values of an RFC 4514 distinguished name, e.g. ``CN=CP-1,O=Operator,C=DE``.

    Escapes are undone (``\\,`` and ``\\2C`` alike; OpenSSL escapes each UTF-8 byte as ``\\XX``).
    Raises ValueError for a string that is not a distinguished name.
    """
    names: list[str] = []
    i, n = 0, len(subject)
    while i < n:
        equals = subject.find("=", i)
        if equals < 0:
            raise ValueError(f"no '=' after {subject[i:][:40]!r}")
        attribute = subject[i:equals].strip().upper()
        i = equals + 1
        raw = bytearray()
        while i < n and subject[i] not in ",+":
            char = subject[i]
            if char != "\\":
                raw += char.encode()
                i += 1
            elif len(pair := subject[i + 1 : i + 3]) == 2 and all(c in hexdigits for c in pair):
                raw.append(int(pair, 16))
                i += 3
            elif i + 1 < n:
                raw += subject[i + 1].encode()
                i += 2
            else:
                raise ValueError("a trailing backslash")
        if attribute in ("CN", "2.5.4.3"):
            names.append(raw.decode("utf-8"))
        i += 1
    return names
