"""API keys: how they look, how they are stored, and the writes that make and revoke them.

A tenant key reads `cpms_<prefix>_<secret>`, a platform staff key `cpmsp_<prefix>_<secret>`.
The prefix is public (lists show it, logs may print it) and finds the row; the whole key is
checked against a salted SHA-256 hash in constant time. Keys are long and random, so a slow
password hash would buy nothing and cost every request.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from cpms import hashing
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import ApiKey, PlatformApiKey, Tenant, User

KEY_PREFIX = "cpms_"
PLATFORM_KEY_PREFIX = "cpmsp_"
_ALPHABET = string.ascii_lowercase + string.digits
# Writing last_used_at on every request would turn each read into a write; a minute is enough
# to tell a live key from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey | PlatformApiKey
    secret: str  # the whole key, shown to its creator once and never stored


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def split(raw: str) -> tuple[type[ApiKey] | type[PlatformApiKey], str] | None:
    """The kind of key presented and its public prefix, or None when it is not shaped like
    one of ours."""
    for start, model in ((KEY_PREFIX, ApiKey), (PLATFORM_KEY_PREFIX, PlatformApiKey)):
        if raw.startswith(start):
            prefix, _, secret = raw[len(start) :].partition("_")
            if len(prefix) != 8 or len(secret) != 40:
                return None
            return model, start + prefix
    return None


def _new_key(model: type[ApiKey | PlatformApiKey], start: str, **fields: Any) -> NewKey:
    """A key of `model` with a fresh secret, of which only the hash is kept."""
    prefix = start + _random(8)
    raw = f"{prefix}_{secrets.token_urlsafe(30)[:40]}"
    key = model.objects.create(prefix=prefix, secret_hash=hashing.make_hash(raw), **fields)
    return NewKey(key=key, secret=raw)


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    role: str,
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> NewKey:
    with transaction.atomic():
        new = _new_key(
            ApiKey,
            KEY_PREFIX,
            tenant=tenant,
            name=name,
            role=role,
            created_by=created_by,
            expires_at=expires_at,
        )
        audit.created(new.key, ObjectType.API_KEY, label=f"{name} ({new.key.prefix})")
    return new


def platform_api_key_create(
    *, name: str, role: str, created_by: User | None, expires_at: datetime | None = None
) -> NewKey:
    """A staff key that acts for whichever tenant a request names in `X-Tenant`. Only
    platform staff (superusers) may hold one."""
    if created_by is None or not created_by.is_superuser:
        raise ValueError("Platform API keys are created by and for platform staff (superusers).")
    return _new_key(
        PlatformApiKey,
        PLATFORM_KEY_PREFIX,
        name=name,
        role=role,
        created_by=created_by,
        expires_at=expires_at,
    )


def api_key_revoke(*, key: ApiKey | PlatformApiKey) -> ApiKey | PlatformApiKey:
    """Revoke at once; revoking twice keeps the first time."""
    if key.revoked_at is None:
        before = audit.snapshot(key, ["revoked_at"])
        key.revoked_at = timezone.now()
        with transaction.atomic():
            type(key).objects.filter(pk=key.pk, revoked_at__isnull=True).update(
                revoked_at=key.revoked_at
            )
            # A platform key belongs to no tenant's log.
            if isinstance(key, ApiKey):
                audit.changed(
                    key,
                    ObjectType.API_KEY,
                    before=before,
                    action=Verb.REVOKE,
                    label=f"{key.name} ({key.prefix})",
                )
    return key


def verify(raw: str, key: ApiKey | PlatformApiKey) -> bool:
    return hashing.check(raw, key.secret_hash)


def api_key_note_use(key: ApiKey | PlatformApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        type(key).objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
