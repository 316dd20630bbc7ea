"""The arithmetic of local lists, without a database: an entry's stored form, a list's digest,
the difference between the list a charger holds and the one it should, and how much of it fits
one update.

A list is a dict uid -> [type, status, expires, group uid, group type] (JSON-friendly: it is
stored as the charger's confirmed list and hashed to tell lists apart)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

from chargers.ocpp.builders import ListEntry

Row = list[str]
Entries = dict[str, Row]
Change = tuple[str, Row | None]  # None: remove the uid


def row_of(entry: ListEntry) -> Row:
    return [entry.type, entry.status, entry.expires_at, entry.group_uid, entry.group_type]


def entry_of(uid: str, row: Row) -> ListEntry:
    type_, status, expires_at, group_uid, group_type = row
    return ListEntry(uid, type_, status, expires_at, group_uid, group_type)


def digest(entries: Entries) -> str:
    """The same for two lists with the same entries, whatever their order."""
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def at_most(entries: Entries, capacity: int | None) -> tuple[Entries, int]:
    """The list a charger holding `capacity` entries gets, and how many were left off. Blocked
    and expired tokens go first: a card refused offline matters more than one accepted."""
    if capacity is None or len(entries) <= capacity:
        return entries, 0
    ranked = sorted(entries, key=lambda uid: (entries[uid][1] == "Accepted", uid))
    kept = ranked[:capacity]
    return {uid: entries[uid] for uid in sorted(kept)}, len(entries) - capacity


def difference(confirmed: Entries, desired: Entries) -> list[Change]:
    """What turns `confirmed` into `desired`: removals first, then new and changed entries,
    each in uid order."""
    removals: list[Change] = [(uid, None) for uid in sorted(confirmed.keys() - desired.keys())]
    changes: list[Change] = [
        (uid, row) for uid, row in sorted(desired.items()) if confirmed.get(uid) != row
    ]
    return removals + changes


def applied(entries: Entries, changes: Sequence[Change]) -> Entries:
    """`entries` after a differential update of `changes`."""
    result = dict(entries)
    for uid, row in changes:
        if row is None:
            result.pop(uid, None)
        else:
            result[uid] = row
    return result


def first_chunk(
    changes: Sequence[Change],
    *,
    per_message: int,
    size_of: Callable[[Sequence[Change]], int],
    bytes_per_message: int | None,
) -> list[Change]:
    """The leading changes one update may carry: at most `per_message`, and, halved until
    they fit, at most `bytes_per_message` as `size_of` measures them (one always goes)."""
    chunk = list(changes[:per_message])
    if bytes_per_message is not None:
        while len(chunk) > 1 and size_of(chunk) > bytes_per_message:
            chunk = chunk[: len(chunk) // 2]
    return chunk
