"""Writes of id tokens: one by one from a form or the API, many at once from the API or a CSV
file. Chargers hear of a change at their next Authorize (or start, or stop), and those that
keep the token on their local list at the list's next sync (at once for a blocked token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Upper

from chargers import token_csv
from chargers.events import IdTokenBlocked
from chargers.models import IdToken, IdTokenType, validate_token_uid
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.services.checks import unique_in_tenant

FIELDS = ("uid", "type", "label", "group", "blocked", "expires_at")


def _check(token: IdToken) -> None:
    try:
        validate_token_uid(token.uid)
    except ValidationError as error:
        raise ValidationError({"uid": error.messages}) from None
    unique_in_tenant(IdToken, field="uid", value=token.uid, instance=token)
    if token.group_id is not None and token.group_id == token.pk:
        raise ValidationError({"group": ["A token cannot be its own group."]})


def id_token_create(
    *,
    uid: str,
    type: str = IdTokenType.ISO14443,
    label: str = "",
    group: IdToken | None = None,
    blocked: bool = False,
    expires_at: datetime | None = None,
) -> IdToken:
    token = IdToken(
        uid=uid.strip(),
        type=type,
        label=label,
        group=group,
        blocked=blocked,
        expires_at=expires_at,
    )
    _check(token)
    with transaction.atomic():
        token.save()
        audit.created(token, ObjectType.ID_TOKEN, label=token.uid)
    return token


def id_token_update(*, token: IdToken, **changes: Any) -> IdToken:
    """Change the fields given (any of uid, type, label, group, blocked, expires_at)."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"not id token fields: {', '.join(sorted(unknown))}")
    if "uid" in changes:
        changes["uid"] = changes["uid"].strip()
    blocking = changes.get("blocked") is True and not token.blocked
    before = audit.snapshot(token, changes)
    for name, value in changes.items():
        setattr(token, name, value)
    _check(token)
    with transaction.atomic():
        token.save(update_fields=list(changes))
        verb = Verb.UPDATE
        if set(changes) == {"blocked"}:
            verb = Verb.BLOCK if token.blocked else Verb.UNBLOCK
        audit.changed(token, ObjectType.ID_TOKEN, before=before, action=verb, label=token.uid)
    if blocking:
        publish(IdTokenBlocked(tenant_id=token.tenant_id, token_id=token.pk, uid=token.uid))
    return token


def id_token_set_blocked(*, token: IdToken, blocked: bool) -> IdToken:
    """Block or unblock a card: a lost card stops working at its next Authorize."""
    return id_token_update(token=token, blocked=blocked)


@transaction.atomic
def id_token_delete(*, token: IdToken) -> None:
    audit.deleted(token, ObjectType.ID_TOKEN, label=token.uid)
    token.delete()


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


@transaction.atomic
def id_tokens_upsert(*, rows: list[dict[str, Any]]) -> UpsertResult:
    """Create or update tokens by uid (case-insensitively; an existing token keeps its stored
    spelling), all or nothing. A row's `group` is None, a token, or the uid of a token that
    exists or is in the rows (groups are set last, so a group may come later in the rows)."""
    result = UpsertResult()
    existing = {token.uid.upper(): token for token in IdToken.objects.all()}
    groups: list[tuple[IdToken, str]] = []
    for row in rows:
        values = {name: row[name] for name in FIELDS if name in row and name != "group"}
        group = row.get("group")
        token = existing.get(row["uid"].strip().upper())
        if token is None:
            token = id_token_create(**values)
            existing[token.uid.upper()] = token
            result.created += 1
        else:
            values.pop("uid")
            id_token_update(token=token, **values)
            result.updated += 1
        if isinstance(group, str):
            if group:  # an empty group column leaves the token's group as it is
                groups.append((token, group))
        elif "group" in row:
            id_token_update(token=token, group=group)
    for token, group_uid in groups:
        group = existing.get(group_uid.upper())
        if group is None:
            raise ValidationError({"group": [f"{group_uid!r} is neither a token nor in the rows."]})
        id_token_update(token=token, group=group)
    return result


def id_tokens_import(*, data: bytes, tz: tzinfo) -> UpsertResult:
    """A CSV file of tokens (see `chargers.token_csv`): every row checked first, every problem
    reported at once, nothing written unless all rows are good."""
    parsed, errors = token_csv.parse(data, tz)
    if errors:
        return UpsertResult(errors=errors)
    known = {
        uid.upper() for uid in IdToken.objects.annotate(u=Upper("uid")).values_list("u", flat=True)
    }
    in_file = {row["uid"].upper() for row in parsed}
    missing = sorted({row["group"].upper() for row in parsed if row["group"]} - known - in_file)
    if missing:
        return UpsertResult(
            errors=[
                f"group: {uid!r} is neither an existing token nor in the file" for uid in missing
            ]
        )
    try:
        with transaction.atomic():
            result = id_tokens_upsert(rows=parsed)
            audit.record(
                action=Verb.IMPORT,
                object_type=ObjectType.ID_TOKEN,
                label=f"{len(parsed)} rows",
                changes={
                    "created": {"before": None, "after": result.created},
                    "updated": {"before": None, "after": result.updated},
                },
            )
        return result
    except ValidationError as error:
        return UpsertResult(
            errors=[f"{name}: {' '.join(m)}" for name, m in error.message_dict.items()]
        )
