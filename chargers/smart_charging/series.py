"""The load chart's arithmetic: the intervals of a time window, and the series over them. Pure:
no database, no clock (the caller passes `now`); the reads are in `selectors`.

The window is cut into intervals of a fixed size aligned to the epoch, the last one holding
`now`. Per interval and phase the chart shows three figures, each with one meaning:

- measured: the sum over sessions of what each drew, its readings averaged over the interval; a
  reading holds until the session's next one, its end, or `READING_HOLD`, whichever is first,
  so a charger that reports every few minutes does not leave holes between its readings;
- planned: the plan in force at the interval's end (the newest computed before it);
- limit: the grid connection's limit in force at the interval's end.

The measured sums come from the database as deltas ("from interval i on, add x"), a few rows
per interval whatever the number of sessions, and are added up here (`held_sums`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chargers.smart_charging.allocation import PHASES

# How long a reading counts when no other follows: chargers are commonly set to report every
# 1 to 15 minutes; an older reading says nothing of what the EV draws now.
READING_HOLD = timedelta(minutes=15)


@dataclass(frozen=True)
class Window:
    label: str | Promise
    span: timedelta
    size: timedelta  # of one interval
    label_format: str  # of an interval's start, in the site's time zone


# The choices of the `window` query parameter. About a hundred points each: enough for the
# shape of a day, few enough for a phone.
WINDOWS = {
    "1h": Window(_("last hour"), timedelta(hours=1), timedelta(minutes=1), "%H:%M"),
    "6h": Window(_("last 6 hours"), timedelta(hours=6), timedelta(minutes=5), "%H:%M"),
    "24h": Window(_("last 24 hours"), timedelta(hours=24), timedelta(minutes=15), "%H:%M"),
    "7d": Window(_("last 7 days"), timedelta(days=7), timedelta(hours=1), "%a %H:%M"),
}
DEFAULT_WINDOW = "6h"


@dataclass(frozen=True)
class Buckets:
    """`count` intervals of `size` seconds from `start`, and `lead` more before it whose
    readings may still hold into the first. Indices count from `origin`, the first of the
    lead: the window's intervals are `lead` to `lead + count - 1`, and none is negative (the
    database's integer division then floors)."""

    start: datetime
    size: int
    count: int
    lead: int

    @classmethod
    def ending(cls, now: datetime, span: timedelta, size: timedelta) -> Buckets:
        seconds = int(size.total_seconds())
        end = math.ceil(now.timestamp() / seconds) * seconds
        count = max(1, math.ceil(span.total_seconds() / seconds))
        lead = math.ceil(READING_HOLD.total_seconds() / seconds)
        start = datetime.fromtimestamp(end - count * seconds, tz=UTC)
        return cls(start=start, size=seconds, count=count, lead=lead)

    @property
    def origin(self) -> datetime:
        return self.start - timedelta(seconds=self.size * self.lead)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.size * self.count)

    @property
    def window(self) -> range:
        """The indices of the window's intervals."""
        return range(self.lead, self.lead + self.count)

    def index(self, moment: datetime) -> int:
        return math.floor((moment - self.origin).total_seconds() / self.size)

    def starts(self) -> list[datetime]:
        return [self.start + timedelta(seconds=self.size * i) for i in range(self.count)]

    def closes(self, now: datetime) -> list[datetime]:
        """The moment each interval's figures are taken at: its last, or `now` for the one
        still running."""
        last = timedelta(microseconds=1)
        return [min(start + timedelta(seconds=self.size) - last, now) for start in self.starts()]


def held_sums(deltas: Mapping[int, float], buckets: Buckets) -> list[float]:
    """The value in each interval of the window from deltas by index: each holds from its
    index on (deltas before the window make its first value)."""
    running = sum(value for index, value in deltas.items() if index < buckets.lead)
    values = []
    for index in buckets.window:
        running += deltas.get(index, 0.0)
        # A sum of deltas that cancel out can leave -1e-13; -0.0 would print as such.
        values.append(round(running, 1) + 0.0)
    return values


def carried(
    by_index: Mapping[int, Mapping[str, float]],
    before: Mapping[str, float] | None,
    buckets: Buckets,
) -> dict[str, list[float | None]]:
    """Per phase, the value in force in each interval: the interval's own (the plan it ended
    with), else the one before it carried on, starting from `before` (None: nothing yet)."""
    current = before
    series: dict[str, list[float | None]] = {phase: [] for phase in PHASES}
    for index in buckets.window:
        current = by_index.get(index, current)
        for phase in PHASES:
            value = None if current is None else current.get(phase)
            series[phase].append(None if value is None else round(value, 1))
    return series


def chart(
    buckets: Buckets,
    zone: tzinfo,
    label_format: str,
    *,
    measured: Mapping[str, Sequence[float]],
    planned: Mapping[str, Sequence[float | None]],
    limit: Sequence[float | None],
) -> dict[str, list]:
    """The chart's data as `static/cpms/charts.js` reads it: labels, and a series per phase
    and figure (`measured_L1`, `planned_L1`, ...) plus `limit`."""
    data: dict[str, list] = {
        "labels": [start.astimezone(zone).strftime(label_format) for start in buckets.starts()],
        "limit": list(limit),
    }
    for phase in PHASES:
        data[f"measured_{phase}"] = list(measured[phase])
        data[f"planned_{phase}"] = list(planned[phase])
    return data


def has_data(data: Mapping[str, list]) -> bool:
    """Whether anything was measured or planned in the window (a limit alone is no history)."""
    return any(
        any(data[f"measured_{phase}"]) or any(v is not None for v in data[f"planned_{phase}"])
        for phase in PHASES
    )
