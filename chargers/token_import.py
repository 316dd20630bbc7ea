"""Bulk import of id tokens from CSV: every row checked, nothing written unless all are good.

Operators fix a file faster when they see every problem at once, and a half-imported file is
worse than none, so rows are validated first and written in one transaction.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chargers.models import IdToken, IdTokenType

MAX_ROWS = 10000
TRUE = {"1", "true", "yes", "y", "blocked"}
FALSE = {"", "0", "false", "no", "n"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _expiry(value: str, tz) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(f"expires_at: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time")
        moment = datetime.combine(day, datetime.min.time())
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, tz)


def import_tokens(*, data: bytes, tz) -> ImportResult:
    result = ImportResult()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append("The file is not UTF-8 text.")
        return result
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "uid" not in [f.strip() for f in reader.fieldnames]:
        result.errors.append("The first row must be a header with at least a uid column.")
        return result
    existing = {uid.upper(): pk for pk, uid in IdToken.objects.values_list("pk", "uid")}
    parsed, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            result.errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        try:
            parsed.append(_parse(row, seen, tz))
        except ValueError as error:
            result.errors.append(f"Row {number}: {error}")
    if result.errors:
        return result
    groups = {row["group"].upper() for row in parsed if row["group"]}
    known_groups = groups & (set(existing) | {row["uid"].upper() for row in parsed})
    for missing in sorted(groups - known_groups):
        result.errors.append(f"group: {missing!r} is neither an existing token nor in the file")
    if result.errors:
        return result
    with transaction.atomic():
        for row in parsed:
            fields = {k: row[k] for k in ("type", "label", "blocked", "expires_at")}
            updated = IdToken.objects.annotate(u=Upper("uid")).filter(u=row["uid"].upper())
            if updated.update(**fields):
                result.updated += 1
            else:
                IdToken.objects.create(uid=row["uid"], **fields)
                result.created += 1
        # Groups last, so a group may be a token defined further down the same file.
        by_uid = {uid.upper(): pk for pk, uid in IdToken.objects.values_list("pk", "uid")}
        for row in parsed:
            if row["group"]:
                IdToken.objects.filter(pk=by_uid[row["uid"].upper()]).update(
                    group_id=by_uid[row["group"].upper()]
                )
    return result


def _parse(row: dict, seen: set, tz) -> dict:
    uid = row.get("uid", "")
    if not uid:
        raise ValueError("uid: required")
    if len(uid) > 36 or not uid.isprintable() or " " in uid:
        raise ValueError(f"uid: {uid[:40]!r} must be up to 36 printable characters, no spaces")
    if uid.upper() in seen:
        raise ValueError(f"uid: {uid!r} appears twice in the file")
    seen.add(uid.upper())
    token_type = row.get("type") or IdTokenType.ISO14443
    if token_type not in IdTokenType.values:
        raise ValueError(f"type: {token_type!r} is not one of {', '.join(IdTokenType.values)}")
    blocked = row.get("blocked", "").lower()
    if blocked not in TRUE | FALSE:
        raise ValueError(f"blocked: {row.get('blocked')!r} is not yes/no")
    label = row.get("label", "")
    if len(label) > 200:
        raise ValueError("label: longer than 200 characters")
    group = row.get("group", "")
    if group.upper() == uid.upper():
        raise ValueError("group: a token cannot be its own group")
    return {
        "uid": uid,
        "type": token_type,
        "label": label,
        "blocked": blocked in TRUE,
        "expires_at": _expiry(row.get("expires_at", ""), tz),
        "group": group,
    }
