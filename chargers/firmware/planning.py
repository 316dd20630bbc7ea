"""The rollout's decisions, without a database: how a campaign splits into waves, whether a wave
is done or must halt the campaign, whether a charger may start now, when a stage times out.

The services (`chargers.firmware.services.orchestrator`) read the rows, ask these functions and
write what they decide; tests check the decisions table by table.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# Target states, as the models spell them (kept here so the rules need no models).
PENDING, DEFERRED, SENDING, ACCEPTED = "pending", "deferred", "sending", "accepted"
DOWNLOADING, DOWNLOADED, INSTALLING, INSTALLED = (
    "downloading",
    "downloaded",
    "installing",
    "installed",
)
SUCCEEDED, FAILED, SKIPPED, CANCELLED = "succeeded", "failed", "skipped", "cancelled"
IN_FLIGHT = (SENDING, ACCEPTED, DOWNLOADING, DOWNLOADED, INSTALLING, INSTALLED)
FINISHED = (SUCCEEDED, FAILED, SKIPPED, CANCELLED)
# How far an update got: a report never moves a charger backwards (a triggered status
# notification may repeat an earlier step).
PROGRESS_ORDER = (SENDING, ACCEPTED, DOWNLOADING, DOWNLOADED, INSTALLING, INSTALLED)


def wave_sizes(
    total: int, *, canary: int, batch_size: int | None = None, batch_percent: int | None = None
) -> list[int]:
    """The size of each wave: the canary first (when there is one), then batches of
    `batch_size` chargers or of `batch_percent` of the whole campaign (at least one), the last
    one taking what is left. Without either, everything after the canary is one wave."""
    if total <= 0:
        return []
    first = min(canary, total)
    sizes = [first] if first else []
    rest = total - first
    if batch_size:
        step = batch_size
    elif batch_percent:
        step = max(1, math.ceil(total * batch_percent / 100))
    else:
        step = rest
    while rest > 0:
        size = min(step, rest)
        sizes.append(size)
        rest -= size
    return sizes


class Verdict(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    HALT = "halt"


def wave_verdict(
    counts: Mapping[str, int],
    *,
    size: int,
    threshold_percent: int,
    overridden: bool = False,
    canary: bool = False,
    deferral_bounded: bool = False,
) -> Verdict:
    """Whether a running wave goes on, is done, or halts the campaign.

    It halts as soon as its failed share passes the threshold (failures in a wave that is still
    running count: waiting for the rest would only add chargers on a bad image); an operator's
    resume overrides that for the wave. It is done once no charger of it is waiting or under
    way. A charger deferred for its session holds the canary, whose updates are the proof the
    batches wait for, and any wave when the campaign bounds the deferral (the charger gets the
    update, or is skipped, within the limit). With no limit it does not hold a batch: it is
    started when free, which may be never.
    """
    failed = counts.get(FAILED, 0)
    if not overridden and size and failed * 100 > threshold_percent * size:
        return Verdict.HALT
    holds = canary or deferral_bounded
    waiting = (PENDING, DEFERRED, *IN_FLIGHT) if holds else (PENDING, *IN_FLIGHT)
    unfinished = sum(counts.get(state, 0) for state in waiting)
    return Verdict.RUNNING if unfinished else Verdict.DONE


def in_window(now: datetime, timezone_name: str, start: time | None, end: time | None) -> bool:
    """Whether `now` (aware) falls in the daily window [start, end) of the site's local time.
    No window (or start == end) is always; a window past midnight (22:00-04:00) wraps."""
    if start is None or end is None or start == end:
        return True
    local = now.astimezone(ZoneInfo(timezone_name or "UTC")).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


class Decision(enum.Enum):
    START = "start"
    DEFER = "defer"  # in a session: try again once it ended
    SKIP = "skip"  # deferred past the campaign's limit, and the campaign skips such chargers
    WAIT = "wait"  # outside the window, or busy with another campaign


@dataclass(frozen=True)
class Candidate:
    """What the orchestrator knows of a charger that may start now."""

    target_id: int
    in_window: bool
    in_session: bool
    busy_elsewhere: bool = False
    deferred_since: datetime | None = None


def decide(
    candidate: Candidate,
    *,
    now: datetime,
    defer_limit: timedelta | None,
    send_at_limit: bool = False,
) -> Decision:
    """Start, defer (in a session), skip or wait. A charger deferred past `defer_limit` is
    started anyway when `send_at_limit` (it installs once its session ended, as OCPP has
    chargers do), else skipped."""
    if candidate.busy_elsewhere or not candidate.in_window:
        return Decision.WAIT
    if candidate.in_session:
        since = candidate.deferred_since or now
        if defer_limit is not None and now - since >= defer_limit:
            return Decision.START if send_at_limit else Decision.SKIP
        return Decision.DEFER
    return Decision.START


def choose_starts(
    candidates: list[Candidate],
    *,
    now: datetime,
    in_flight: int,
    max_in_flight: int,
    defer_limit: timedelta | None,
    send_at_limit: bool = False,
) -> dict[int, Decision]:
    """Each candidate's decision, with START given to at most the room left under
    `max_in_flight`; candidates are taken in order (the caller puts deferred ones first: they
    waited longest). A candidate over the limit gets WAIT."""
    room = max(0, max_in_flight - in_flight)
    decisions: dict[int, Decision] = {}
    for candidate in candidates:
        decision = decide(candidate, now=now, defer_limit=defer_limit, send_at_limit=send_at_limit)
        if decision is Decision.START:
            if room == 0:
                decision = Decision.WAIT
            else:
                room -= 1
        decisions[candidate.target_id] = decision
    return decisions


@dataclass(frozen=True)
class Timeouts:
    """Minutes each stage may take: the command and the download, the installation, the boot
    on the new firmware."""

    download: int
    install: int
    boot: int


def stage_deadline(state: str, now: datetime, timeouts: Timeouts) -> datetime | None:
    """When a charger that just reached `state` has overstayed it (None: not timed)."""
    if state in (SENDING, ACCEPTED, DOWNLOADING):
        minutes = timeouts.download
    elif state in (DOWNLOADED, INSTALLING):
        minutes = timeouts.install
    elif state == INSTALLED:
        minutes = timeouts.boot
    else:
        return None
    return now + timedelta(minutes=minutes)


def is_progress(current: str, reported: str) -> bool:
    """Whether a reported state moves an update forward from `current`."""
    if current not in PROGRESS_ORDER or reported not in PROGRESS_ORDER:
        return False
    return PROGRESS_ORDER.index(reported) > PROGRESS_ORDER.index(current)


def after_failure(attempt: int, max_attempts: int) -> str:
    """What a failed attempt leaves: another attempt (PENDING) or a failed charger."""
    return PENDING if attempt < max_attempts else FAILED


def request_id_for(target_id: int, attempt: int) -> int:
    """The OCPP requestId of an attempt: the same for every send of that attempt, different
    for every other attempt and target, and within OCPP's 32-bit integer."""
    return (target_id * 16 + attempt) % (2**31 - 1) or 1


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A firmware version as a sort key: numbers compare as numbers ("2.10" after "2.9"),
    other parts as text, a number after text ("2.0" after "2.0-rc1"'s text part)."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    return tuple((1, int(p)) if p.isdigit() else (0, p.lower()) for p in parts)


def boot_outcome(state: str, *, reported_version: str, target_version: str) -> str | None:
    """What a boot says about an update under way: SUCCEEDED on the target version, FAILED
    when the charger had installed (or was installing) and came back on another version, None
    when the boot tells nothing yet (a restart while downloading)."""
    if reported_version == target_version:
        return SUCCEEDED
    if state in (INSTALLING, INSTALLED):
        return FAILED
    return None
