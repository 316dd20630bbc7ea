"""Uptime of connectors from their status history."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    OuterRef,
    QuerySet,
    Subquery,
)

from chargers.models import (
    Connector,
    StatusEvent,
)

DOWN_STATUSES = {"Faulted", "Unavailable"}


def uptime_fraction(
    initial: str | None, changes: list[tuple[datetime, str]], start: datetime, end: datetime
) -> float | None:
    """The share of [start, end) a connector was not Faulted or Unavailable.

    `initial` is the status in force at `start` (None: unknown, counted from the first change);
    `changes` are (time, status) in order within the period. None when nothing is known.
    """
    known_from = start if initial is not None else (changes[0][0] if changes else None)
    if known_from is None or end <= known_from:
        return None
    down = timedelta(0)
    status, since = initial, start
    for at, new_status in changes:
        at = min(max(at, start), end)
        if status in DOWN_STATUSES:
            down += at - since
        status, since = new_status, at
    if status in DOWN_STATUSES:
        down += end - since
    total = end - known_from
    return max(0.0, 1 - down / total)


def _status_before(start: datetime) -> Subquery:
    """For a connector row: the status it reported last before `start` (the history's index
    finds it)."""
    history = StatusEvent.objects.filter(
        charger_id=OuterRef("charger_id"),
        evse_id=OuterRef("evse_id"),
        connector_id=OuterRef("connector_id"),
        timestamp__lt=start,
    ).order_by("-timestamp")
    return Subquery(history.values("status")[:1])


def _changes(
    chargers: QuerySet, start: datetime, end: datetime
) -> dict[tuple[int, int, int], list[tuple[datetime, str]]]:
    """The (time, status) changes within [start, end) of each connector (charger, evse,
    connector) of `chargers`, in order."""
    changes: dict[tuple[int, int, int], list[tuple[datetime, str]]] = {}
    events = (
        StatusEvent.objects.filter(
            charger__in=chargers, evse_id__gt=0, timestamp__gte=start, timestamp__lt=end
        )
        .order_by("timestamp", "pk")
        .values_list("charger_id", "evse_id", "connector_id", "timestamp", "status")
    )
    for charger_id, evse_id, connector_id, at, status in events.iterator(chunk_size=5000):
        changes.setdefault((charger_id, evse_id, connector_id), []).append((at, status))
    return changes


def connector_uptimes(chargers: QuerySet, start: datetime, end: datetime) -> list[dict]:
    """Uptime per connector (evse numbers from 1) of `chargers` over [start, end).

    Two queries whatever the number of connectors: the connectors, each with the status in
    force at `start` (the last event before it, found through the history's index), and every
    change within the period.
    """
    connectors = (
        Connector.objects.filter(charger__in=chargers, evse_id__gt=0)
        .select_related("charger")
        .annotate(initial=_status_before(start))
        .order_by("charger__identity", "evse_id", "connector_id")
    )
    changes = _changes(chargers, start, end)
    result = []
    for connector in connectors:
        key = (connector.charger_id, connector.evse_id, connector.connector_id)
        fraction = uptime_fraction(connector.initial, changes.get(key, []), start, end)
        result.append(
            {
                "connector": connector,
                "percent": None if fraction is None else round(fraction * 100, 1),
            }
        )
    return result


def availability_per_day(
    chargers: QuerySet, days: list[tuple[datetime, datetime]]
) -> list[float | None]:
    """Per period of `days` (each [start, end), in order, adjoining), the share of connector
    time not Faulted or Unavailable over the connectors of `chargers`, as a percentage; None
    for a period nothing is known of. The same arithmetic as `connector_uptimes`, in one walk
    over the status history of the whole span."""
    if not days:
        return []
    start, end = days[0][0], days[-1][1]
    status_at_start = dict(
        (
            ((c, e, n), initial)
            for c, e, n, initial in Connector.objects.filter(charger__in=chargers, evse_id__gt=0)
            .annotate(initial=_status_before(start))
            .values_list("charger_id", "evse_id", "connector_id", "initial")
        )
    )
    changes = _changes(chargers, start, end)
    up = [0.0] * len(days)
    known = [0] * len(days)
    for key, initial in status_at_start.items():
        connector_changes = changes.get(key, [])
        status, index = initial, 0
        for day, (day_start, day_end) in enumerate(days):
            within = []
            while index < len(connector_changes) and connector_changes[index][0] < day_end:
                within.append(connector_changes[index])
                index += 1
            fraction = uptime_fraction(status, within, day_start, day_end)
            if within:
                status = within[-1][1]
            if fraction is not None:
                up[day] += fraction
                known[day] += 1
    return [round(up[d] * 100 / known[d], 1) if known[d] else None for d in range(len(days))]
