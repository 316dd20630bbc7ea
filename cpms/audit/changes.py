"""What changed, as an entry keeps it: pure functions over field values.

A row's fields are read into plain JSON values (`fields_of`), two readings are compared
(`diff`) and secrets are masked on the way (`masked`): a password, a hash, a secret or a key
never reaches the log in clear, only the fact that it changed.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

MASK = "********"
# A field whose name contains one of these holds a secret (password, password_hash,
# onboarding_password_hash, secret, key_hash, private_key, key_pem, authorization_key, ...).
SECRET_PARTS = (
    "password",
    "secret",
    "hash",
    "private",
    "key_pem",
    "authorization_key",
    "sealed",
    "encrypted",
)
# Bookkeeping columns that change with every write and say nothing to a reader.
SKIPPED = frozenset({"id", "tenant", "created_at", "updated_at", "last_used_at"})


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SECRET_PARTS)


def plain(value: Any) -> Any:
    """A value as JSON holds it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def masked(name: str, value: Any) -> Any:
    if is_secret(name):
        return MASK if value not in (None, "") else ""
    return value


def fields_of(row: models.Model, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's own columns (a foreign key by its id, under the field's name), as plain values."""
    wanted = set(names) if names is not None else None
    values: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.name in SKIPPED or (wanted is not None and field.name not in wanted):
            continue
        values[field.name] = plain(getattr(row, field.attname))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before", "after"}} for each field whose value differs, secrets masked."""
    changed: dict[str, dict[str, Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = plain(before.get(name)), plain(after.get(name))
        if old != new:
            changed[name] = {"before": masked(name, old), "after": masked(name, new)}
    return changed


def created(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A new row's values as changes from nothing (empty values left out)."""
    return diff({}, {k: v for k, v in values.items() if v not in (None, "", [], {})})


def removed(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A removed row's values as changes to nothing."""
    return diff({k: v for k, v in values.items() if v not in (None, "", [], {})}, {})
