"""Id tokens in a CSV file: every row read and checked, every problem named with its row.

Operators fix a file faster when they see every problem at once, and a half-imported file is
worse than none: `chargers.services.tokens.id_tokens_import` writes nothing unless all are good.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chargers.models import IdTokenType, validate_token_uid
from cpms.exports import restore

MAX_ROWS = 10000
TRUE = {"1", "true", "yes", "y", "blocked"}
FALSE = {"", "0", "false", "no", "n"}


def _expiry(value: str, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(f"expires_at: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time")
        moment = datetime.combine(day, datetime.min.time())
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, tz)


def parse(data: bytes, tz: tzinfo) -> tuple[list[dict], list[str]]:
    """The rows of a CSV file of tokens as `id_tokens_upsert` takes them (a row's group as the
    uid it names), and every problem found, with its row number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["The file is not UTF-8 text."]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "uid" not in [f.strip() for f in reader.fieldnames]:
        return [], ["The first row must be a header with at least a uid column."]
    parsed: list[dict] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        # Our own export guards cells a spreadsheet would run ('=...): read them as they were.
        row = {(k or "").strip(): restore((v or "").strip()) for k, v in raw.items()}
        try:
            parsed.append(_parse(row, seen, tz))
        except ValueError as error:
            errors.append(f"Row {number}: {error}")
    return parsed, errors


def _parse(row: dict, seen: set, tz: tzinfo) -> dict:
    uid = row.get("uid", "")
    if not uid:
        raise ValueError("uid: required")
    try:
        validate_token_uid(uid)
    except ValidationError as error:
        raise ValueError(f"uid: {uid[:40]!r}: {error.messages[0]}") from None
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
