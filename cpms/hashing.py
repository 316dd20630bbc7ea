"""Salted fast hashes for long, random, machine-made secrets: charger passwords, API keys.

Such secrets are checked on every connection or request, and a slow password hash buys nothing
against a 16-40 character random key while costing minutes of CPU when a whole fleet
reconnects. People's passwords keep Django's slow hasher.
"""

import hashlib
import hmac
import secrets

ALGORITHM = "sha256"


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
