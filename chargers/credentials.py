"""Charger passwords: salted SHA-256, compared in constant time.

Chargers authenticate on every connection and their keys are long machine-generated secrets
(16-40 characters), so a slow password hash buys nothing and would cost minutes of CPU when a
whole fleet reconnects after a restart. People's passwords keep Django's slow hasher.
"""

import hashlib
import hmac
import secrets

ALGORITHM = "sha256"
MIN_LENGTH, MAX_LENGTH = 16, 40


def make_hash(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
    return f"{ALGORITHM}${salt}${digest}"


def check(password: str, stored: str) -> bool:
    try:
        algorithm, salt, digest = stored.split("$", 2)
    except ValueError:
        return False
    if algorithm != ALGORITHM:
        return False
    candidate = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


def generate() -> str:
    """A new charger password: 32 characters from the OCPP 2.0.1 passwordString alphabet."""
    return secrets.token_urlsafe(24)[:32]


def validate(password: str) -> str | None:
    """Why a chosen password is unacceptable, or None."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"Use {MIN_LENGTH} to {MAX_LENGTH} characters (OCPP security profiles 1 and 2)."
    if not password.isascii() or not password.isprintable():
        return "Use printable ASCII characters only."
    return None
