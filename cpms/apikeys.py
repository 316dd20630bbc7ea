"""API keys: how they look, how they are stored, and the writes that make and revoke them.

A key reads `cpms_<prefix>_<secret>`. The prefix is public (lists show it, logs may print it)
and finds the row; the whole key is checked against a salted SHA-256 hash in constant time.
Keys are long and random, so a slow password hash would buy nothing and cost every request.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from chargers import credentials
from cpms.models import ApiKey, Tenant

KEY_PREFIX = "cpms_"
_ALPHABET = string.ascii_lowercase + string.digits
# Writing last_used_at on every request would turn each read into a write; a minute is enough
# to tell a live key from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown to its creator once and never stored


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def split(raw: str) -> str | None:
    """The public prefix of a presented key, or None when it is not shaped like one of ours."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = raw[len(KEY_PREFIX) :].partition("_")
    if len(prefix) != 8 or len(secret) != 40:
        return None
    return KEY_PREFIX + prefix


def create_api_key(
    *, tenant: Tenant, name: str, role: str, created_by=None, expires_at: datetime | None = None
) -> NewKey:
    prefix = KEY_PREFIX + _random(8)
    raw = f"{prefix}_{secrets.token_urlsafe(30)[:40]}"
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        role=role,
        prefix=prefix,
        secret_hash=credentials.make_hash(raw),
        created_by=created_by,
        expires_at=expires_at,
    )
    return NewKey(key=key, secret=raw)


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke at once; revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key


def verify(raw: str, key: ApiKey) -> bool:
    return credentials.check(raw, key.secret_hash)


def note_use(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
