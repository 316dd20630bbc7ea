"""The integrity vocabulary of a charging session: what a list, an export or the API flags
about a session whose figures are not simply what its charger measured and said.

Every flag is computed from stored facts, in two equivalent forms: `session_flags` for a
session at hand (pages, serializers, CSV rows) and `flag_filter` for a queryset (filters),
so that a session shows a flag exactly when the filter for it selects it.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chargers.models import ChargerEvent, EventKind, SessionState

# The stop reason of a session the server closed because its charger never sent a stop
# (`sessions_close_stale`); the stop field is 40 characters, so the rest is the hours.
STALE_STOP_REASON = "No stop after {hours} h"
STALE_STOP_PREFIX = "No stop after "
# The summary of a stop kept aside because it named a transaction we do not know.
STOP_ASIDE_PREFIX = "Stop of unknown transaction "


class Flag(NamedTuple):
    name: str
    label: str | Promise
    explanation: str | Promise


FLAGS = {
    flag.name: flag
    for flag in (
        Flag(
            "clock_suspect",
            _("Clock suspect"),
            _(
                "The charger reported an implausible time for this session; the server's receipt "
                "time stands in for it."
            ),
        ),
        Flag(
            "energy_estimated",
            _("Energy estimated"),
            _(
                "The energy is not the difference of two register readings: a reading is missing, "
                "or the register went backwards (a meter replaced or reset)."
            ),
        ),
        Flag(
            "closed_by_server",
            _("Closed by the server"),
            _(
                "The charger came back without this session (it rebooted or started another on "
                "the connector); closed at its last reading. A stop it sends later replaces this."
            ),
        ),
        Flag(
            "stale_closed",
            _("Closed: no stop"),
            _(
                "The charger never sent a stop; the server closed the session after the tenant's "
                "time at its last reading. A stop it sends later replaces this."
            ),
        ),
        Flag(
            "stop_set_aside",
            _("Stop set aside"),
            _(
                "While this session ran, the charger sent a stop for a transaction we do not know; "
                "it was kept aside on the charger's events."
            ),
        ),
    )
}
FLAG_CHOICES = [(flag.name, flag.label) for flag in FLAGS.values()]


def session_flags(session) -> list[str]:
    """The flags of `session` (a ChargingSession; `stop_set_aside` is read from the annotation
    `with_integrity` adds, False without it), in the vocabulary's order."""
    flags = []
    if session.timestamp_suspect:
        flags.append("clock_suspect")
    if _energy_estimated(session):
        flags.append("energy_estimated")
    if session.closed_by_server:
        stale = session.stop_reason.startswith(STALE_STOP_PREFIX)
        flags.append("stale_closed" if stale else "closed_by_server")
    if getattr(session, "stop_set_aside", False):
        flags.append("stop_set_aside")
    return flags


def _energy_estimated(session) -> bool:
    start = session.meter_start_wh
    end = session.meter_stop_wh if session.meter_stop_wh is not None else session.meter_last_wh
    if start is not None and end is not None:
        return end < start
    return session.state == SessionState.COMPLETED


def with_integrity(sessions: QuerySet) -> QuerySet:
    """`sessions` annotated with `stop_set_aside`: one indexed subquery per row (charger,
    kind, time), so that lists and exports need no query per session. Annotating twice is
    harmless."""
    if "stop_set_aside" in sessions.query.annotations:
        return sessions
    aside = ChargerEvent.objects.filter(
        charger_id=OuterRef("charger_id"),
        kind=EventKind.UNMATCHED,
        summary__startswith=STOP_ASIDE_PREFIX,
        at__gte=OuterRef("started_at"),
        at__lte=Coalesce(OuterRef("stopped_at"), Now()),
    )
    return sessions.annotate(stop_set_aside=Exists(aside))


def flag_filter(name: str) -> Q:
    """The sessions with the flag `name` (one of FLAGS, or "any" for any of them), on a
    queryset from `with_integrity`."""
    if name == "any":
        combined = Q()
        for flag in FLAGS:
            combined |= flag_filter(flag)
        return combined
    stale = Q(stop_reason__startswith=STALE_STOP_PREFIX)
    if name == "clock_suspect":
        return Q(timestamp_suspect=True)
    if name == "energy_estimated":
        start_missing = Q(meter_start_wh__isnull=True)
        end_missing = Q(meter_stop_wh__isnull=True, meter_last_wh__isnull=True)
        backwards = Q(meter_stop_wh__lt=F("meter_start_wh")) | Q(
            meter_stop_wh__isnull=True, meter_last_wh__lt=F("meter_start_wh")
        )
        return (Q(state=SessionState.COMPLETED) & (start_missing | end_missing)) | (
            ~start_missing & ~end_missing & backwards
        )
    if name == "closed_by_server":
        return Q(closed_by_server=True) & ~stale
    if name == "stale_closed":
        return Q(closed_by_server=True) & stale
    if name == "stop_set_aside":
        return Q(stop_set_aside=True)
    raise ValueError(f"no integrity flag {name!r}")
