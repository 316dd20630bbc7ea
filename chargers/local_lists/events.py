"""The local lists' event: a charger's list was synchronised, or its sync ended otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from cpms.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LocalListSynced(DomainEvent):
    """A charger's sync ended: `outcome` in_sync (the charger holds the desired list, at
    `version`, with `entries` entries), failed, unsupported or offline. For the operators'
    pages (the charger page refreshes its list); no webhook."""

    name = "local_list.synced"

    charger_id: int
    outcome: str
    version: int
    entries: int
