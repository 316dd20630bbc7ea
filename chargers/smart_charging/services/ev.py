"""What ISO 15118 EVs tell the CSMS through their chargers, kept and acted on.

Needs (OCPP 2.0.1 K15, K17): each statement is kept; on the session charging at the EVSE it
becomes the session's needs (`SessionNeeds`, see there for who wins) and, at a load-managed
site, the session's limit goes out again from the next run of the control loop, changed or
not, as the answer promised. Needs that come before their transaction wait on the EVSE until a
session starts there.

Schedules (K15 to K17): the schedule an EV chose is checked period by period against the last
session limit sent to its transaction; one beyond it is refused and the CSMS renegotiates: it
sends its limit again (K16), up to `RENEGOTIATIONS_IN_A_ROW` times in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from chargers.models import Charger, ChargingSession
from chargers.smart_charging import selectors
from chargers.smart_charging.models import (
    NOMINAL_VOLTAGE,
    ChargerElectrical,
    EvChargingNeeds,
    EvChargingSchedule,
    NeedsAnswer,
    NeedsSource,
    SessionNeeds,
)
from chargers.smart_charging.schedules import THREE_PHASES, EvNeeds, Schedule, excess
from chargers.smart_charging.services import _changed, _check, session_profile_forget
from cpms.memo import TenantFacts

# Needs stated on an EVSE wait this long for a transaction to start there. ISO 15118 states
# them within seconds of the plug-in; an EV that left without a transaction leaves its needs
# to nobody after this.
NEEDS_WAIT = timedelta(minutes=10)
# Whether needs an EV stated before its transaction wait anywhere in the tenant, remembered for
# a while: every session start asks, and while none wait it is spared a statement. An EV states
# its needs through the socket its session then starts on, in this process, and storing them
# forgets the tenant here (now and on commit).
needs_waiting = TenantFacts(ttl=30.0)

# An EV that keeps choosing more than it is given is refused each time, but renegotiated with
# only this many times in a row: each renegotiation is a SetChargingProfile and a new schedule,
# and the charger holds the EV to its limit meanwhile.
RENEGOTIATIONS_IN_A_ROW = 3

# SessionNeeds' fields the EV states, and where a statement keeps each.
EV_STATED = {
    "departure_at": "departure_at",
    "energy_needed_wh": "energy_wh",
    "min_current_a": "min_current_a",
    "max_current_a": "max_current_a",
    "max_schedule_tuples": "max_schedule_tuples",
}
TENTH = Decimal("0.1")
MOST_A = 10_000  # what SessionNeeds keeps a current as, at most


def _amperes(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(TENTH, rounding=ROUND_DOWN)


def _currents(charger_id: int, needs: EvNeeds) -> tuple[Decimal | None, Decimal | None]:
    """The EV's range in amperes per phase on the grid side: as an AC EV states it, or a DC
    EV's most power over the phases its charger is wired to."""
    if needs.max_current_a is not None or needs.max_power_w is None:
        return _amperes(needs.min_current_a), _amperes(needs.max_current_a)
    wired = ChargerElectrical.objects.filter(charger_id=charger_id).values_list("phases", flat=True)
    phases = len(selectors.phases_of(wired[0])) if wired else THREE_PHASES
    # Beyond what a current is kept as, the EV's maximum binds nothing anyway.
    most = min(needs.max_power_w / (NOMINAL_VOLTAGE * phases), float(MOST_A))
    return None, _amperes(most)


@transaction.atomic
def ev_needs_record(
    *, charger_id: int, evse_id: int, needs: EvNeeds, now: datetime | None = None
) -> EvChargingNeeds:
    """Keep what an EV said it needs, and what the CSMS promises it (`answer`): a schedule
    now, once its transaction has started, or none where the site is not load-managed."""
    now = now or timezone.now()
    charger = Charger.objects.get(pk=charger_id)
    session = selectors.running_session(charger_id, evse_id)
    site_id = selectors.managed_site_id(charger_id)
    if not site_id:
        answer = NeedsAnswer.NONE
    elif session is None or not session.transaction_id:
        answer = NeedsAnswer.LATER
    else:
        answer = NeedsAnswer.SCHEDULE
    min_a, max_a = _currents(charger_id, needs)
    statement = EvChargingNeeds(
        tenant_id=charger.tenant_id,
        charger=charger,
        evse_id=evse_id,
        session=session,
        received_at=now,
        transfer=needs.transfer,
        departure_at=needs.departure_at,
        energy_wh=needs.energy_wh,
        min_current_a=min_a,
        max_current_a=max_a,
        max_power_w=None if needs.max_power_w is None else round(needs.max_power_w),
        max_schedule_tuples=needs.max_schedule_tuples,
        answer=answer,
    )
    _check(statement)
    statement.save()
    if session is None:
        needs_waiting.forget(charger.tenant_id)
        transaction.on_commit(lambda: needs_waiting.forget(charger.tenant_id))
    if session is not None:
        _needs_follow(session, statement)
        if answer == NeedsAnswer.SCHEDULE:
            session_profile_forget(charger_id=charger_id, evse_id=evse_id)
            _changed(site_id, f"EV needs at {charger.identity}/{evse_id}")
    return statement


def ev_needs_attach(*, tenant_id: int, session_id: int, charger_id: int, evse_id: int) -> None:
    """A session started on an EVSE: the needs an EV stated there before its transaction
    began are the session's. (Heard on every session start: nothing asked while none wait.)"""
    # The queryset is built only when asked: building one costs more than the memo's answer.
    if needs_waiting.get(tenant_id, lambda: _unattached().exists()):
        _attach(_unattached().filter(charger_id=charger_id, evse_id=evse_id), session_id)


def _unattached() -> QuerySet[EvChargingNeeds]:
    return EvChargingNeeds.objects.filter(
        session__isnull=True, received_at__gte=timezone.now() - NEEDS_WAIT
    )


# Heard inside the start's own transaction: no savepoint of its own on that path.
@transaction.atomic(savepoint=False)
def _attach(waiting: QuerySet[EvChargingNeeds], session_id: int) -> None:
    if not waiting.update(session_id=session_id):
        return
    session = ChargingSession.objects.get(pk=session_id)
    _needs_follow(session, EvChargingNeeds.objects.filter(session=session).first())


def _needs_follow(session: ChargingSession, said: EvChargingNeeds | None) -> None:
    """The session's needs after the EV's statement `said`: field by field, the EV's value
    fills what is empty and replaces what still holds its previous statement; what an operator
    or integrator wrote stays. (A row the EV created follows each statement.)"""
    if said is None:
        return
    needs = SessionNeeds.objects.select_for_update().filter(session=session).first()
    if needs is None:
        needs = SessionNeeds(session=session, tenant_id=session.tenant_id, source=NeedsSource.EV)
    before = EvChargingNeeds.objects.filter(session=session).exclude(pk=said.pk).first()
    for field, stated in EV_STATED.items():
        current = getattr(needs, field)
        if current is None or (before is not None and current == getattr(before, stated)):
            setattr(needs, field, getattr(said, stated))
    _check(needs)
    needs.save()


def _renegotiated_enough(record: EvChargingSchedule) -> bool:
    before = (
        EvChargingSchedule.objects.filter(session_id=record.session_id)
        .exclude(pk=record.pk)
        .values_list("within_limits", flat=True)[:RENEGOTIATIONS_IN_A_ROW]
    )
    refused = [within for within in before if not within]
    return len(refused) == RENEGOTIATIONS_IN_A_ROW


@dataclass(frozen=True)
class ScheduleVerdict:
    record: EvChargingSchedule
    # The command whose limit goes out again, where no control loop sends one (a site that is
    # not load-managed): the charger's own, or an operator's.
    resend_command_id: int | None = None


@transaction.atomic
def ev_schedule_record(
    *,
    charger_id: int,
    evse_id: int,
    schedule: Schedule,
    time_base: datetime,
    now: datetime | None = None,
) -> ScheduleVerdict:
    """Keep the schedule an EV chose and check it against the last session limit sent to its
    transaction; one beyond it starts a renegotiation (the limit goes out again)."""
    now = now or timezone.now()
    charger = Charger.objects.get(pk=charger_id)
    session = selectors.running_session(charger_id, evse_id)
    sent = None
    if session is not None and session.transaction_id:
        sent = selectors.last_session_limit(charger_id, evse_id, session.transaction_id)
    reason, verdict = "", "No session limit was sent: nothing to stay within."
    if session is not None and sent is not None:
        limit = sent[1].schedule
        # A relative limit counts from its transaction's start.
        reason = excess(schedule, time_base, limit, limit.start or session.started_at)
        verdict = reason or "Within the session limit sent."
    record = EvChargingSchedule.objects.create(
        tenant_id=charger.tenant_id,
        charger=charger,
        evse_id=evse_id,
        session=session,
        received_at=now,
        time_base=time_base,
        schedule=schedule.as_json(),
        within_limits=not reason,
        verdict=verdict[:255],
    )
    if not reason or sent is None or _renegotiated_enough(record):
        return ScheduleVerdict(record)
    site_id = selectors.managed_site_id(charger_id)
    if not site_id:
        return ScheduleVerdict(record, resend_command_id=sent[0].pk)
    session_profile_forget(charger_id=charger_id, evse_id=evse_id)
    _changed(site_id, f"EV schedule beyond its limit at {charger.identity}/{evse_id}")
    return ScheduleVerdict(record)
