"""The one write of the audit log: `record`, called by the services that change what people
and API keys manage, with the actor the door set (`cpms.audit.context`). Without an actor (a
charger's own messages, a periodic job) nothing is recorded.

Services call it inside their own transaction, so an entry exists exactly when the change it
describes was committed. `created`, `changed` and `deleted` are its shorthands for a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from cpms.audit import changes as ch
from cpms.audit.context import current_actor
from cpms.audit.models import AuditEntry, ObjectType, Verb
from cpms.tenancy import scoping


def record(
    *,
    action: str,
    object_type: str,
    target: models.Model | None = None,
    object_id: Any = "",
    label: str = "",
    changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> AuditEntry | None:
    """Record that the current actor did `action` to the object; None when nobody acts."""
    if action not in Verb.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if object_type not in ObjectType.values:
        raise ValueError(f"Unknown audit object type {object_type!r}")
    actor = current_actor()
    if actor is None:
        return None
    tenant_id = getattr(target, "tenant_id", None)
    if tenant_id is None:
        tenant = scoping.current_tenant()
        tenant_id = tenant.pk if tenant is not None else None
    if tenant_id is None:
        # Only platform work without a tenant gets here (a platform key's own rows); the log is
        # each tenant's.
        return None
    if target is not None and not object_id:
        object_id = target.pk
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_key_id=actor.key_id,
        actor_label=actor.label[:200],
        actor_role=actor.role,
        door=actor.door,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        action=action,
        object_type=object_type,
        object_id=str(object_id or "")[:64],
        object_label=(label or (str(target) if target is not None else ""))[:200],
        changes=ch.plain(dict(changes or {})),
    )
    entry.save()
    return entry


def created(
    target: models.Model, object_type: str, *, label: str = "", action: str = Verb.CREATE
) -> AuditEntry | None:
    return record(
        action=action,
        object_type=object_type,
        target=target,
        label=label,
        changes=ch.created(ch.fields_of(target)),
    )


def changed(
    target: models.Model,
    object_type: str,
    *,
    before: Mapping[str, Any],
    label: str = "",
    action: str = Verb.UPDATE,
    always: bool = False,
) -> AuditEntry | None:
    """Record the difference between `before` (a `fields_of` reading) and the row now; a
    change that changed nothing is not recorded unless `always`."""
    difference = ch.diff(before, ch.fields_of(target, before.keys()))
    if not difference and not always:
        return None
    return record(
        action=action, object_type=object_type, target=target, label=label, changes=difference
    )


def deleted(
    target: models.Model, object_type: str, *, label: str = "", action: str = Verb.DELETE
) -> AuditEntry | None:
    """Call before the row goes: it records the row's id and values."""
    return record(
        action=action,
        object_type=object_type,
        target=target,
        label=label,
        changes=ch.removed(ch.fields_of(target)),
    )


def retention() -> timedelta:
    return timedelta(days=settings.AUDIT_RETENTION_DAYS)


def audit_purge(*, now: datetime | None = None) -> int:
    """Delete the scope's entries older than the retention; returns how many."""
    cutoff = (now or timezone.now()) - retention()
    return AuditEntry.objects.get_queryset().filter(at__lt=cutoff).purge()


MASK = ch.MASK


def snapshot(row: models.Model, names: Any = None) -> dict[str, Any]:
    """A row's fields (or the named ones) as stored, before a change, for `changed`.

    Read from the database, not the instance: a ModelForm's validation has already written
    the new values into the instance a view hands its service. Nothing is read when nobody
    acts (a task, a charger's message): nothing will be recorded.
    """
    if current_actor() is None:
        return {}
    if row.pk is not None:
        stored = type(row)._base_manager.filter(pk=row.pk).first()
        if stored is not None:
            return ch.fields_of(stored, names)
    return ch.fields_of(row, names)


# For services that describe a change in their own terms (a tariff's versioned terms).
diff = ch.diff
new_values = ch.created
