"""What a charger's page shows of its charging limits: the composite schedule it last gave per
EVSE, the profiles it last listed beside those the control loop sent (a difference is what an
operator looks for), and what ISO 15118 EVs said there. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from chargers.models import Charger, ChargingSession, Command, CommandStatus
from chargers.ocpp.profiles import READ_COMPOSITE, composite
from chargers.smart_charging.models import (
    EvChargingNeeds,
    EvChargingSchedule,
    ProfileKind,
    ProfilesReport,
    SentProfile,
)
from chargers.smart_charging.schedules import HeldProfile, Schedule, in_force, points_of
from chargers.smart_charging.services import PROFILE_ID

# How many of a charger's newest composite-schedule requests are looked through.
COMPOSITES_LOOKED_AT = 50
EV_RECORDS_SHOWN = 5


@dataclass(frozen=True)
class CompositeRow:
    evse_id: int
    answered_at: datetime | None
    schedule: Schedule


def latest_composites(charger: Charger) -> list[CompositeRow]:
    """The newest composite schedule the charger gave for each EVSE it was asked about."""
    answered = Command.objects.filter(
        charger=charger, action=READ_COMPOSITE, status=CommandStatus.ANSWERED
    ).order_by("-completed_at", "-pk")[:COMPOSITES_LOOKED_AT]
    found: dict[int, CompositeRow] = {}
    for command in answered:
        read = composite(command.action, command.payload, command.response)
        if read is not None and read.evse_id not in found:
            found[read.evse_id] = CompositeRow(read.evse_id, command.completed_at, read.schedule)
    return [found[evse_id] for evse_id in sorted(found)]


@dataclass(frozen=True)
class ProfileLine:
    """A profile the control loop sent, or one the charger listed, or both side by side."""

    evse_id: int
    kind: str
    sent: SentProfile | None
    held: HeldProfile | None
    verdict: str
    agrees: bool | None  # None: nothing to compare


def _described(points: list[tuple[str, float]]) -> str:
    return ", ".join(
        f"{limit:g} A"
        if at == "now"
        else gettext("%(limit)s A from %(time)s UTC")
        % {"limit": f"{limit:g}", "time": f"{datetime.fromisoformat(at):%H:%M}"}
        for at, limit in points
    )


def _compare(sent: SentProfile, held: HeldProfile | None, report: ProfilesReport | None):
    if report is None:
        return gettext("not listed yet: ask the charger to list its profiles"), None
    if sent.sent_at > report.updated_at:
        return gettext("sent after the charger's list"), None
    if held is None:
        return gettext("not on the charger"), False
    at = report.updated_at
    holds = in_force(points_of(held.schedule, held.schedule.start or report.started_at), at)
    meant = in_force(((datetime.fromisoformat(s), limit) for s, limit in sent.periods), at)
    if holds == meant:
        return gettext("as sent"), True
    return gettext("the charger holds %(held)s; sent %(sent)s") % {
        "held": _described(holds),
        "sent": _described(meant),
    }, False


def profiles_beside_sent(charger: Charger) -> tuple[ProfilesReport | None, list[ProfileLine]]:
    """The charger's newest list of its profiles, and each profile the control loop sent
    beside the one the charger holds in its place (same EVSE, purpose and id); then the
    profiles it holds that the loop did not send (an operator's, a local energy manager's)."""
    report = ProfilesReport.objects.filter(charger=charger).select_related("command").first()
    held = [HeldProfile.from_json(p) for p in report.profiles] if report else []
    lines = []
    for sent in SentProfile.objects.filter(charger=charger).order_by("evse_id", "kind"):
        mine = next(
            (
                h
                for h in held
                if (h.evse_id, h.kind, h.profile_id)
                == (sent.evse_id, sent.kind, PROFILE_ID + sent.evse_id)
            ),
            None,
        )
        if mine is not None:
            held.remove(mine)
        verdict, agrees = _compare(sent, mine, report)
        kind = sent.get_kind_display()
        lines.append(ProfileLine(sent.evse_id, kind, sent, mine, verdict, agrees))
    kinds = dict(ProfileKind.choices)
    for other in held:
        kind = str(kinds.get(other.kind, other.purpose))
        lines.append(
            ProfileLine(
                other.evse_id, kind, None, other, gettext("not sent by the control loop"), None
            )
        )
    return report, lines


def ev_records(charger: Charger) -> tuple[list[EvChargingNeeds], list[EvChargingSchedule]]:
    """The newest needs and schedules ISO 15118 EVs stated at the charger."""
    return (
        list(EvChargingNeeds.objects.filter(charger=charger)[:EV_RECORDS_SHOWN]),
        list(EvChargingSchedule.objects.filter(charger=charger)[:EV_RECORDS_SHOWN]),
    )


def session_ev_needs(session: ChargingSession) -> list[EvChargingNeeds]:
    """What the session's EV said it needs, newest first (each statement)."""
    return list(EvChargingNeeds.objects.filter(session=session)[:EV_RECORDS_SHOWN])
