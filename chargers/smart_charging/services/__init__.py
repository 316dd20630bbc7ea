"""Smart charging's writes: the tree and the limits (each change publishes `SiteLimitsChanged`,
which the control loop hears), a session's needs, and a site's recompute: the plan stored with
its inputs and reasons, and the profiles that changed sent through the command path. What ISO
15118 EVs say is `ev`'s; the profiles chargers list are `reports`'."""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from chargers.models import Charger, ChargingSession, Command, CommandStatus, IdToken
from chargers.ocpp import builders
from chargers.ocpp.readers import charging_profile_accepted
from chargers.smart_charging import allocation as alloc
from chargers.smart_charging import cheaper, schedules, selectors, texts
from chargers.smart_charging.events import LoadPlanChanged, SiteLimitsChanged
from chargers.smart_charging.models import (
    ChargerElectrical,
    Circuit,
    GridLimitWindow,
    GroupPriority,
    LimitSignal,
    LoadPlan,
    NeedsSource,
    ProfileKind,
    ProfileStatus,
    SentProfile,
    SessionNeeds,
    SiteElectrical,
)
from chargers.smart_charging.schedules import in_force
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.models import Site
from cpms.tenancy import rows

SOURCE = "smart_charging"  # the commands' source, in the audit log
PROFILE_ID = 14_000  # + the EVSE: one profile id per place, so a new one replaces the old
# A profile sent without an outcome for this long is given up on (and sent again).
PENDING_PATIENCE = timedelta(minutes=3)
RETRY_FIRST = timedelta(seconds=30)
RETRY_MOST = timedelta(minutes=15)
KEEP_PLANS = timedelta(days=7)
PRUNE_EVERY_S = 600.0
_pruned_at: dict[int, float] = {}  # site id -> when this process last pruned its plans
DRAW_KEY = "smart:draw:{}"  # session id -> (site id, the draw its plan assumed)
DRAW_TTL = timedelta(hours=2)
DRAW_REWRITE = timedelta(minutes=30)  # every key is written again this often


def _changed(site_id: int, what: str) -> None:
    site = Site.objects.get(pk=site_id)
    publish(SiteLimitsChanged(tenant_id=site.tenant_id, site_id=site_id, what=what))


def _record_save(row: Any, before: dict[str, Any] | None, object_type: str) -> None:
    """Who changed the tree or a limit: a new row, or what changed in one (`before`)."""
    if before is None:
        audit.created(row, object_type)
    else:
        audit.changed(row, object_type, before=before)


def _check(instance: Any) -> None:
    """Model validation as a ValidationError naming the field (the API's 400)."""
    instance.full_clean(exclude=["tenant"])


# --- the tree and the limits -----------------------------------------------------------------


@transaction.atomic
def site_electrical_set(*, site: Site, **fields: Any) -> SiteElectrical:
    """Create or change a site's grid connection settings (one per site)."""
    row = SiteElectrical.objects.filter(site=site).first() or SiteElectrical(
        site=site, tenant_id=site.tenant_id
    )
    before = audit.snapshot(row) if row.pk else None
    for name, value in fields.items():
        setattr(row, name, value)
    _check(row)
    if row.static_limit_a() is None:
        raise ValidationError(
            {"grid_limit_a": [gettext("Give a limit, or set the site's grid limit in kW first.")]}
        )
    row.save()
    _record_save(row, before, ObjectType.GRID_CONNECTION)
    _changed(site.pk, "grid connection")
    return row


@transaction.atomic
def site_electrical_delete(*, row: SiteElectrical) -> None:
    """Stop managing a site (what the chargers hold stays until their sessions end)."""
    site_id = row.site_id
    audit.deleted(row, ObjectType.GRID_CONNECTION)
    row.delete()
    SentProfile.objects.filter(charger__site_id=site_id).delete()
    _changed(site_id, "grid connection removed")


def _check_circuit(circuit: Circuit) -> None:
    if circuit.limit_a is not None and circuit.limit_a <= 0:
        raise ValidationError({"limit_a": [gettext("A circuit's limit is above 0 A.")]})
    taken = Circuit.objects.filter(site_id=circuit.site_id, name__iexact=circuit.name)
    if taken.exclude(pk=circuit.pk).exists():
        raise ValidationError({"name": [gettext("The site has a circuit of that name.")]})
    _check(circuit)
    _check_parent(circuit)


def _check_parent(circuit: Circuit) -> None:
    parent = circuit.parent
    seen = {circuit.pk}
    while parent is not None:
        if parent.site_id != circuit.site_id:
            raise ValidationError({"parent": [gettext("That circuit is at another site.")]})
        if parent.pk in seen:
            raise ValidationError({"parent": [gettext("A circuit cannot be below itself.")]})
        seen.add(parent.pk)
        parent = parent.parent


@transaction.atomic
def circuit_create(*, site: Site, **fields: Any) -> Circuit:
    circuit = Circuit(site=site, tenant_id=site.tenant_id, **fields)
    _check_circuit(circuit)
    circuit.save()
    audit.created(circuit, ObjectType.CIRCUIT)
    _changed(site.pk, f"circuit {circuit.name}")
    return circuit


@transaction.atomic
def circuit_update(*, circuit: Circuit, **fields: Any) -> Circuit:
    if "site" in fields and fields["site"].pk != circuit.site_id:
        raise ValidationError({"site": [gettext("A circuit stays at its site; create a new one.")]})
    fields.pop("site", None)
    before = audit.snapshot(circuit)
    for name, value in fields.items():
        setattr(circuit, name, value)
    _check_circuit(circuit)
    circuit.save()
    audit.changed(circuit, ObjectType.CIRCUIT, before=before)
    _changed(circuit.site_id, f"circuit {circuit.name}")
    return circuit


@transaction.atomic
def circuit_delete(*, circuit: Circuit) -> None:
    if circuit.children.exists():
        raise ValidationError({"id": [gettext("Remove or move the circuits below it first.")]})
    site_id, name = circuit.site_id, circuit.name
    audit.deleted(circuit, ObjectType.CIRCUIT)
    circuit.delete()
    _changed(site_id, f"circuit {name} removed")


@transaction.atomic
def charger_electrical_set(*, charger: Charger, **fields: Any) -> ChargerElectrical:
    """Create or change how a charger is wired (one per charger)."""
    row = ChargerElectrical.objects.filter(charger=charger).first() or ChargerElectrical(
        charger=charger, tenant_id=charger.tenant_id
    )
    before = audit.snapshot(row) if row.pk else None
    for name, value in fields.items():
        setattr(row, name, value)
    _check(row)
    if row.circuit is not None and row.circuit.site_id != charger.site_id:
        raise ValidationError({"circuit": [gettext("That circuit is not at the charger's site.")]})
    if row.min_current_a is not None and row.min_current_a > row.max_current_a:
        raise ValidationError({"min_current_a": [gettext("Above the maximum.")]})
    limits = row.connector_max_a
    if not isinstance(limits, dict) or not all(
        str(k).isdigit() and isinstance(v, int | float) and 0 < v <= 1000 for k, v in limits.items()
    ):
        raise ValidationError(
            {"connector_max_a": [gettext('An EVSE number to its maximum in A: {"2": 16}.')]}
        )
    row.save()
    _record_save(row, before, ObjectType.CHARGER_WIRING)
    if charger.site_id is not None:
        _changed(charger.site_id, f"wiring of {charger.identity}")
    return row


@transaction.atomic
def charger_electrical_delete(*, row: ChargerElectrical) -> None:
    site_id = row.charger.site_id
    audit.deleted(row, ObjectType.CHARGER_WIRING)
    row.delete()
    if site_id is not None:
        _changed(site_id, "wiring removed")


def _check_weekdays(weekdays: Any) -> None:
    if not isinstance(weekdays, list) or not all(
        isinstance(d, int) and 0 <= d <= 6 for d in weekdays
    ):
        raise ValidationError(
            {"weekdays": [gettext("Days as numbers, 0 for Monday to 6 for Sunday.")]}
        )


@transaction.atomic
def limit_window_create(*, site: Site, **fields: Any) -> GridLimitWindow:
    window = GridLimitWindow(site=site, tenant_id=site.tenant_id, **fields)
    _check_weekdays(window.weekdays)
    _check(window)
    window.save()
    audit.created(window, ObjectType.GRID_LIMIT_WINDOW)
    _changed(site.pk, f"schedule {window}")
    return window


@transaction.atomic
def limit_window_update(*, window: GridLimitWindow, **fields: Any) -> GridLimitWindow:
    fields.pop("site", None)
    before = audit.snapshot(window)
    for name, value in fields.items():
        setattr(window, name, value)
    _check_weekdays(window.weekdays)
    _check(window)
    window.save()
    audit.changed(window, ObjectType.GRID_LIMIT_WINDOW, before=before)
    _changed(window.site_id, f"schedule {window}")
    return window


@transaction.atomic
def limit_window_delete(*, window: GridLimitWindow) -> None:
    site_id = window.site_id
    audit.deleted(window, ObjectType.GRID_LIMIT_WINDOW)
    window.delete()
    _changed(site_id, "schedule removed")


@transaction.atomic
def limit_signal_post(
    *,
    site: Site,
    limit_a: Decimal,
    expires_at: datetime,
    starts_at: datetime | None = None,
    source: str = "",
) -> LimitSignal:
    """An integrator's limit for the grid connection, until it expires (then the static limit
    and the schedule apply again). A signal only lowers the limit: the fuse stays the fuse."""
    starts_at = starts_at or timezone.now()
    if expires_at <= starts_at:
        raise ValidationError({"expires_at": [gettext("Expires before it starts.")]})
    signal = LimitSignal(
        site=site,
        tenant_id=site.tenant_id,
        limit_a=limit_a,
        starts_at=starts_at,
        expires_at=expires_at,
        source=source,
    )
    _check(signal)
    signal.save()
    audit.created(signal, ObjectType.LIMIT_SIGNAL, action=Verb.POST)
    _changed(site.pk, f"signal {signal}")
    return signal


@transaction.atomic
def limit_signal_withdraw(*, signal: LimitSignal) -> None:
    site_id = signal.site_id
    audit.deleted(signal, ObjectType.LIMIT_SIGNAL, action=Verb.WITHDRAW)
    signal.delete()
    _changed(site_id, "signal withdrawn")


PRIORITY_FIELDS = {"priority", "priority_label"}


@transaction.atomic
def session_needs_set(*, session: ChargingSession, **fields: Any) -> SessionNeeds:
    """Create or change a session's priority and needs (one per session), as an operator or
    integrator says them: values an ISO 15118 EV states later do not replace them (see
    `SessionNeeds`). A priority set on a row the EV created makes the row theirs, since an
    EV's row gives the session its group's priority."""
    row = SessionNeeds.objects.filter(session=session).first() or SessionNeeds(
        session=session, tenant_id=session.tenant_id
    )
    if row.source == NeedsSource.EV and "source" not in fields and PRIORITY_FIELDS & set(fields):
        row.source = NeedsSource.OPERATOR
    for name, value in fields.items():
        setattr(row, name, value)
    _check(row)
    row.save()
    site_id = session.charger.site_id
    if site_id is not None:
        _changed(site_id, f"needs of session {session.pk}")
    return row


@transaction.atomic
def session_needs_delete(*, row: SessionNeeds) -> None:
    site_id = row.session.charger.site_id
    row.delete()
    if site_id is not None:
        _changed(site_id, "needs removed")


def _priorities_changed(what: str) -> None:
    for site_id in SiteElectrical.objects.filter(managed=True).values_list("site_id", flat=True):
        _changed(site_id, what)


@transaction.atomic
def group_priority_set(*, group: IdToken, **fields: Any) -> GroupPriority:
    """Create or change the priority of an id-token group's sessions (one per group); every
    managed site recomputes."""
    row = GroupPriority.objects.filter(group=group).first() or GroupPriority(
        group=group, tenant_id=group.tenant_id
    )
    for name, value in fields.items():
        setattr(row, name, value)
    _check(row)
    row.save()
    _priorities_changed(f"priority of group {group.uid}")
    return row


@transaction.atomic
def group_priority_delete(*, row: GroupPriority) -> None:
    uid = row.group.uid
    row.delete()
    _priorities_changed(f"priority of group {uid} removed")


# --- the recompute ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A profile to send once the plan is committed."""

    sent_profile_id: int
    charger: Charger
    request: builders.Request


def _normalised(periods: list[list[Any]], now: datetime) -> list[tuple[str, float]]:
    """Periods as (start, limit) from now on: the one in force starts "now"."""
    return in_force(((datetime.fromisoformat(start), limit) for start, limit in periods), now)


def _retry_due(profile: selectors.SentRow, sent_at: datetime | None, now: datetime) -> bool:
    if sent_at is None:
        return True
    wait = min(RETRY_FIRST * (2 ** max(0, profile.attempts - 1)), RETRY_MOST)
    return sent_at + wait <= now


def _reconcile(site: Site, now: datetime) -> None:
    """Read the outcomes of the profiles sent since the last run into their records (as plain
    values, in a statement per distinct outcome: a site may have a thousand in flight)."""
    pending = rows.plain_rows(selectors.pending_profiles, site.pk)
    if not pending:
        return
    commands = {
        pk: (status, response, error)
        for pk, status, response, error in Command.objects.filter(
            pk__in=[command_id for _, command_id, _ in pending if command_id is not None]
        ).values_list("pk", "status", "response", "error")
    }
    outcomes: dict[tuple[str, str], list[int]] = {}
    patient_since = (now - PENDING_PATIENCE).timestamp()
    for pk, command_id, sent_s in pending:
        command = commands.get(command_id) if command_id else None
        if command is None or command[0] in (CommandStatus.QUEUED, CommandStatus.SENT):
            if sent_s >= patient_since:
                continue
            outcome = (ProfileStatus.FAILED, "Never sent." if command is None else "No outcome.")
        else:
            status, response, error = command
            if status != CommandStatus.ANSWERED:
                outcome = (ProfileStatus.FAILED, error or CommandStatus(status).english)
            elif charging_profile_accepted(response):
                outcome = (ProfileStatus.ACCEPTED, "")
            else:
                answer = (response or {}).get("status", "no status")
                outcome = (ProfileStatus.REJECTED, f"The charger answered {answer}.")
        outcomes.setdefault(outcome, []).append(pk)
    for (status, error), pks in outcomes.items():
        SentProfile.objects.filter(pk__in=pks).update(status=status, error=error)


def _periods(plan_periods: tuple[tuple[float, float], ...], now: datetime) -> list[list[Any]]:
    return [[_stamp(now, offset), limit] for offset, limit in plan_periods]


@functools.lru_cache(maxsize=64)
def _stamp(now: datetime, offset: float) -> str:
    """The time `offset` seconds after `now`, as stored (a plan has few distinct ones)."""
    return (now + timedelta(seconds=offset)).isoformat()


def _same_periods(sent: selectors.SentRow, offsets, now: datetime) -> bool:
    """Whether what was sent says the same from now on as the new periods. Most limits are
    one period: compared, to a tenth of an ampere, without reading times."""
    single = sent.single_limit
    if single is not None and len(offsets) == 1:
        return round(single * 10) == round(float(offsets[0][1]) * 10)
    return _normalised(sent.periods, now) == _normalised(_periods(offsets, now), now)


# What a new send writes over the record of its place.
SENT_VALUES = ("session", "periods", "limit_a", "status", "command", "error", "sent_at", "attempts")


@dataclass(frozen=True)
class _Send:
    charger_id: int
    kind: str
    evse_id: int
    offsets: tuple[tuple[float, float], ...]
    transaction_id: str


def _to_send(inputs: selectors.SiteInputs, plan: alloc.Plan, now: datetime) -> list[Outgoing]:
    """Decide what changed since it was last sent, and record it as pending (in one upsert: a
    site's first run sends a thousand)."""
    decided: list[_Send] = []
    records: list[SentProfile] = []  # decided[i]'s record

    def place(charger_id: int, evse_id: int, kind: str, session, offsets, limit) -> bool:
        """Record the profile if it is to be sent; whether it is on its way (sent now, or
        sent and not answered yet, or waiting for its transaction id)."""
        found = inputs.sent.get((charger_id, evse_id, kind))
        same = (
            found is not None
            and found.session_id == (session.pk if session else None)
            and _same_periods(found, offsets, now)
        )
        if found is not None and same:
            if found.status in (selectors.ACCEPTED, selectors.PENDING):
                return found.status == selectors.PENDING
            if not _retry_due(found, inputs.unaccepted_sent_at.get(found.pk), now):
                return False
        if kind == selectors.SESSION_KIND and not session.transaction_id:
            return True  # a session without a transaction id yet: the next run has it
        records.append(
            SentProfile(
                tenant_id=inputs.site.tenant_id,
                charger_id=charger_id,
                evse_id=evse_id,
                kind=kind,
                session_id=session.pk if session else None,
                periods=_periods(offsets, now),
                limit_a=Decimal(str(limit)),
                status=ProfileStatus.PENDING,
                command=None,
                error="",
                sent_at=now,
                attempts=(found.attempts + 1) if found is not None and same else 1,
            )
        )
        transaction_id = session.transaction_id if session else ""
        decided.append(_Send(charger_id, kind, evse_id, tuple(offsets), transaction_id))
        return True

    allocations = plan.by_connector()
    fallback: dict[int, float] = {}
    for key, (charger_id, _evse_id) in inputs.evses.items():
        share = plan.fallback.get(key)
        if share is not None:
            fallback[charger_id] = min(fallback.get(charger_id, share), share)
    # Chargers with a session limit on its way: their fallback waits for the next run. The
    # TxProfile for a transaction is the first profile a charger gets after its start, and a
    # renegotiation's the next (OCPP 2.0.1 TC_K_55 counts every SetChargingProfile); the
    # session holds its limit meanwhile, and is counted at it if the charger goes offline.
    in_flight: set[int] = set()
    for key, session in inputs.sessions.items():
        charger_id, evse_id = inputs.evses[key]
        if not inputs.chargers[charger_id].is_online:
            continue  # an offline charger keeps what it has; nothing reaches it
        allocation = allocations[key]
        periods = allocation.periods
        if key in inputs.tuples:
            periods = schedules.at_most(periods, inputs.tuples[key])
        if place(charger_id, evse_id, selectors.SESSION_KIND, session, periods, periods[0][1]):
            in_flight.add(charger_id)
    for charger_id, share in sorted(fallback.items()):
        if inputs.chargers[charger_id].is_online and charger_id not in in_flight:
            place(charger_id, 0, selectors.FALLBACK_KIND, None, ((0.0, share),), share)
    if not decided:
        return []
    # A place's record keeps its id (the place is unique): the upsert returns it either way.
    SentProfile.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["charger", "evse_id", "kind"],
        update_fields=[*SENT_VALUES],
    )
    chargers = Charger.objects.in_bulk({d.charger_id for d in decided})
    out = []
    for item, record in zip(decided, records, strict=True):
        charger = chargers[item.charger_id]
        request = builders.charging_limit(
            charger,
            kind=item.kind,
            evse_id=item.evse_id,
            profile_id=PROFILE_ID + item.evse_id,
            starts=now,
            periods=[(round(offset), limit) for offset, limit in item.offsets],
            phases=inputs.phase_count.get(charger.pk, 3),
            transaction_id=item.transaction_id,
        )
        out.append(Outgoing(record.pk, charger, request))
    return out


def _allocation_rows(inputs: selectors.SiteInputs, plan: alloc.Plan) -> list[dict[str, Any]]:
    stored = []
    draws = {s.connector: s.draw_a for s in inputs.problem.sessions}
    for allocation in plan.allocations:
        charger_id, evse_id = inputs.evses[allocation.connector]
        draw = draws.get(allocation.connector)
        stored.append(
            {
                "charger": charger_id,
                "charger_identity": inputs.chargers[charger_id].identity,
                "evse_id": evse_id,
                "session": allocation.session_id,
                "limit_a": allocation.limit_a,
                "paused": allocation.paused,
                "binding": allocation.binding,
                "reason": allocation.reason,
                "reason_text": allocation.reason_text,
                "periods": _periods(allocation.periods, inputs.now),
                "draw_a": None if draw is None else round(draw, 1),
                "fallback_a": plan.fallback.get(allocation.connector),
            }
        )
    return stored


def _history_record(inputs: selectors.SiteInputs, plan: alloc.Plan) -> dict[str, Any]:
    """What the next run needs of this one: the allocator's history, and the draws assumed."""
    draws = {
        str(inputs.sessions[s.connector].pk): round(s.draw_a or 0.0, 1)
        for s in inputs.problem.sessions
    }
    draws_at = inputs.assumed.get("draws_at", 0)
    if inputs.now.timestamp() - draws_at > DRAW_REWRITE.total_seconds():
        draws_at = inputs.now.timestamp()
    return {
        "limits": dict(plan.history.limits),
        "charging_since": dict(plan.history.charging_since),
        "paused_since": dict(plan.history.paused_since),
        "draws": draws,
        "draws_at": draws_at,
    }


def _inputs_record(
    inputs: selectors.SiteInputs, plan: alloc.Plan, history: dict[str, Any]
) -> dict[str, Any]:
    problem = inputs.problem
    return {
        "now": inputs.now.isoformat(),
        "grid_limit_a": inputs.grid_limit_a,
        "grid_source": inputs.grid_source,
        "sharing": problem.settings.sharing,
        "nodes": [
            {
                "id": n.id,
                "name": n.name,
                "limit_a": n.limit_a,
                "phases": list(n.phases),
                "parent": n.parent,
            }
            for n in problem.nodes
        ],
        "connectors": [
            {
                "key": c.key,
                "node": c.node,
                "phases": list(c.phases),
                "min_a": c.min_a,
                "max_a": c.max_a,
            }
            for c in problem.connectors
        ],
        "sessions": [
            {
                "connector": s.connector,
                "session": s.session_id,
                "priority": s.priority,
                "draw_a": s.draw_a,
                "need_a": s.need_a,
                "fixed_a": s.fixed_a,
                "ev_min_a": s.ev_min_a,
                "ev_max_a": s.ev_max_a,
            }
            for s in problem.sessions
        ],
        "changes": [{"offset_s": c.offset_s, "limits": dict(c.limits)} for c in problem.changes],
        "load": {node: dict(phases) for node, phases in plan.load.items()},
        "history": history,
    }


def _digest(inputs: selectors.SiteInputs, plan: alloc.Plan, history: dict[str, Any]) -> str:
    """What makes two runs' plans the same: their inputs, history and allocations, with times
    that follow the clock (now, offsets from it) left out or made absolute. A session's
    `need_a` follows the clock too (the same energy over less time): what it is worked out
    from counts instead, so an idle site's runs repeat the plan until an allocation moves.
    Computed on the allocator's own records (orjson writes dataclasses as they are), not on
    the rows a full plan stores: most runs store none."""
    problem, now = inputs.problem, inputs.now
    sessions = [
        s if s.need_a is None else (replace(s, need_a=None), inputs.needs_basis.get(s.connector))
        for s in problem.sessions
    ]
    allocations = [
        a if len(a.periods) < 2 else (replace(a, periods=()), _periods(a.periods[1:], now))
        for a in plan.allocations
    ]
    data = [
        inputs.grid_limit_a,
        inputs.grid_source,
        problem.settings,
        problem.nodes,
        problem.connectors,
        sessions,
        inputs.identities,
        [[_stamp(now, c.offset_s), sorted(c.limits.items())] for c in problem.changes],
        plan.load,
        plan.fallback,
        {k: v for k, v in history.items() if k != "draws_at"},
        allocations,
    ]
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)).hexdigest()


def _cheaper(inputs: selectors.SiteInputs, plan: alloc.Plan) -> alloc.Plan:
    """The plan with the sessions that said their needs moved into the site's cheaper hours
    (`cheaper`); the plan itself when there are none, or nothing to gain."""
    if not inputs.flexible or inputs.limits is None:
        return plan
    prices = selectors.site_prices(inputs.site, inputs.now)
    if not prices:
        return plan
    now = inputs.now
    end = now + timedelta(seconds=min(cheaper.LONGEST, max(f.departure_s for f in inputs.flexible)))
    changes = []
    for moment in inputs.limits.breakpoints(now, end):
        later, _ = inputs.limits.at(moment)
        limit = later if later is not None else selectors.NO_LIMIT_A
        changes.append(alloc.LimitChange((moment - now).total_seconds(), {selectors.GRID: limit}))
    moved = cheaper.cheaper_periods(inputs.problem, plan, prices, inputs.flexible, changes)
    if not moved:
        return plan
    allocations = tuple(
        replace(
            a,
            limit_a=moved[a.connector][0][1],
            periods=moved[a.connector],
            reason=f"{a.reason}; planned for cheaper hours",
            reason_text=texts.CHEAPER(reason=a.reason_text),
        )
        if a.connector in moved
        else a
        for a in plan.allocations
    )
    return replace(plan, allocations=allocations)


@transaction.atomic
def plan_compute(
    *, site: Site, trigger: str, now: datetime | None = None
) -> tuple[LoadPlan | None, list[Outgoing]]:
    """Recompute a managed site: read what was answered, allocate, store the plan and record
    the profiles that changed as pending. The caller sends them once this has committed
    (`profiles_send`): a charger's answer must find the records."""
    now = now or timezone.now()
    # One recompute of a site at a time (two workers, a tick and an event); the site row
    # itself is not locked.
    electrical = rows.locked_row(SiteElectrical, site_id=site.pk)
    if electrical is None or not electrical.managed:
        return None, []
    electrical.site = site
    _reconcile(site, now)
    inputs = selectors.site_inputs(site, electrical, now)
    started = time.perf_counter()
    plan = _cheaper(inputs, alloc.allocate(inputs.problem))
    duration_ms = (time.perf_counter() - started) * 1000
    # The last plan's limits are in the history it left.
    changed = dict(inputs.history.limits) != dict(plan.history.limits)
    outgoing = _to_send(inputs, plan, now)
    history = _history_record(inputs, plan)
    digest = _digest(inputs, plan, history)
    full_id = inputs.last_full_id
    same = full_id is not None and inputs.last_full_digest == digest
    load_plan = LoadPlan.objects.create(
        site=site,
        tenant_id=site.tenant_id,
        computed_at=now,
        trigger=trigger[:40],
        # The same digest means the same history but for when the draws were last cached:
        # the repeated plan holds the rest (`selectors._last_plan` reads both).
        inputs=(
            {"now": now.isoformat(), "history": {"draws_at": history["draws_at"]}}
            if same
            else _inputs_record(inputs, plan, history)
        ),
        allocations=[] if same else _allocation_rows(inputs, plan),
        changed=changed,
        commands_sent=len(outgoing),
        duration_ms=round(duration_ms, 3),
        digest=digest,
        same_as_id=full_id if same else None,
    )
    last = selectors.LastPlan(
        history=plan.history,
        assumed={"draws": history["draws"], "draws_at": history["draws_at"]},
        full_id=full_id if same else load_plan.pk,
        full_digest=digest,
    )
    transaction.on_commit(lambda: selectors.remember_last_plan(site.pk, load_plan.pk, last))
    # A week of plans; the full plan the newest ones point at stays. Looking for plans a week
    # old is a query of its own that nearly always finds none: done now and then.
    at = time.monotonic()
    if at - _pruned_at.get(site.pk, -PRUNE_EVERY_S) >= PRUNE_EVERY_S:
        old = LoadPlan.objects.filter(site=site, computed_at__lt=now - KEEP_PLANS)
        old.exclude(pk=full_id if same and full_id is not None else load_plan.pk).delete()
        _pruned_at[site.pk] = at
    if changed:
        grid = plan.load.get(selectors.GRID, {})
        publish(
            LoadPlanChanged(
                tenant_id=site.tenant_id,
                site_id=site.pk,
                plan_id=load_plan.pk,
                trigger=load_plan.trigger,
                sessions=len(plan.allocations),
                paused=sum(1 for a in plan.allocations if a.paused),
                planned_a=max(grid.values(), default=0.0),
                limit_a=inputs.grid_limit_a,
            )
        )
    # What the listeners compare meter readings with: only what changed is written, and all
    # of it now and then (the keys expire).
    draws = history["draws"]
    if history["draws_at"] == now.timestamp():
        changed_draws = draws
    else:
        before = inputs.assumed.get("draws", {})
        changed_draws = {k: v for k, v in draws.items() if before.get(k) != v}
    if changed_draws:
        values = {DRAW_KEY.format(k): (site.pk, v) for k, v in changed_draws.items()}
        transaction.on_commit(lambda: cache.set_many(values, DRAW_TTL.total_seconds()))
    return load_plan, outgoing


def profiles_send(outgoing: list[Outgoing]) -> int:
    """Send the profiles a committed plan recorded, without waiting for the chargers: their
    answers are read into the records by the next run (which a finished command triggers)."""
    sent = 0
    for item in outgoing:
        command = builders.perform(item.charger, item.request, source=SOURCE, wait=False)
        SentProfile.objects.filter(pk=item.sent_profile_id).update(command=command)
        sent += 1
    return sent


def site_recompute(*, site_id: int, trigger: str) -> LoadPlan | None:
    """The control loop's one step for a site: plan, commit, send what changed."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return None
    plan, outgoing = plan_compute(site=site, trigger=trigger)
    profiles_send(outgoing)
    return plan


def charger_profiles_forget(*, charger_id: int) -> None:
    """A charger came back: what it holds is not known any more, so everything is sent again."""
    SentProfile.objects.filter(charger_id=charger_id).delete()


def session_profile_forget(*, charger_id: int, evse_id: int) -> None:
    """The session on an EVSE is to get its limit again at the next run, changed or not (an
    ISO 15118 EV renegotiates its schedule with each limit it gets)."""
    SentProfile.objects.filter(
        charger_id=charger_id, evse_id=evse_id, kind=ProfileKind.SESSION
    ).delete()


# --- the demo --------------------------------------------------------------------------------


@transaction.atomic
def demo_load_tree(*, site: Site, chargers: list[Charger]) -> None:
    """Make a demo site load-managed (idempotent): a 63 A connection with a lower limit in
    the evening, and its chargers on a 40 A car-park circuit, low enough for a handful of
    simulated cars to be shared visibly."""
    site_electrical_set(site=site, grid_limit_a=Decimal("63"), sharing="equal")
    circuit = Circuit.objects.filter(site=site, name="Car park level -1").first()
    if circuit is None:
        circuit = circuit_create(site=site, name="Car park level -1", limit_a=Decimal("40"))
    for charger in chargers:
        charger_electrical_set(charger=charger, circuit=circuit, max_current_a=Decimal("32"))
    if not GridLimitWindow.objects.filter(site=site).exists():
        limit_window_create(
            site=site,
            starts=datetime.strptime("17:00", "%H:%M").time(),  # noqa: DTZ007 (a time of day)
            ends=datetime.strptime("20:00", "%H:%M").time(),  # noqa: DTZ007
            limit_a=Decimal("32"),
        )
