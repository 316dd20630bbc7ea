"""Reads: a site's tree, limits, sessions and what was sent, turned into the allocator's
problem; the grid limit at a moment (static, schedule windows, signals)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, FloatField, Q, QuerySet, TextField
from django.db.models.functions import Cast

from chargers.models import Charger, ChargingSession, Connector, SessionState
from chargers.smart_charging import allocation as alloc
from chargers.smart_charging.models import (
    NOMINAL_VOLTAGE,
    Circuit,
    GridLimitWindow,
    LimitSignal,
    LoadPlan,
    Phases,
    ProfileKind,
    ProfileStatus,
    SentProfile,
    SessionNeeds,
    SiteElectrical,
)
from cpms.models import Site

HORIZON = timedelta(hours=2)  # how far the short schedule looks ahead
GRID = "grid"
NO_LIMIT_A = 10_000.0  # a grid connection with no limit set
# A session drawing this much over the limit it accepted this long ago does not obey it.
DISOBEY_MARGIN_A = 2.0
OBEY_GRACE = timedelta(seconds=90)
DEFAULT_MAX_A = 32.0


# Plain strings and tuples: a thousand chargers ask on every run.
_PHASES = {str(p.value): alloc.PHASES if p == Phases.THREE else (str(p.value),) for p in Phases}
THREE = str(Phases.THREE.value)


def phases_of(value: str) -> tuple[str, ...]:
    return _PHASES[value]


def node_id(circuit_id: int | None) -> str:
    return GRID if circuit_id is None else f"c{circuit_id}"


def connector_key(charger_id: int, evse_id: int) -> str:
    return f"{charger_id}/{evse_id}"


def _covers(window: GridLimitWindow, local: datetime) -> bool:
    def on(day: int) -> bool:
        return not window.weekdays or day in window.weekdays

    now = local.time()
    if window.starts == window.ends:
        return on(local.weekday())
    if window.starts < window.ends:
        return window.starts <= now < window.ends and on(local.weekday())
    # Past midnight: the evening of the window's day, or the morning after it.
    yesterday = (local.weekday() - 1) % 7
    return (now >= window.starts and on(local.weekday())) or (now < window.ends and on(yesterday))


@dataclass
class GridLimits:
    """The grid connection's limit over time, from its three sources."""

    static_a: float | None
    zone: ZoneInfo
    windows: list[GridLimitWindow]
    signals: list[LimitSignal]

    def at(self, moment: datetime) -> tuple[float | None, str]:
        """The limit in force at `moment` and where it comes from."""
        found: list[tuple[float, str]] = []
        if self.static_a is not None:
            found.append((self.static_a, "grid connection"))
        local = moment.astimezone(self.zone)
        for window in self.windows:
            if _covers(window, local):
                found.append((float(window.limit_a), f"schedule {window}"))
        for signal in self.signals:
            if signal.starts_at <= moment < signal.expires_at:
                found.append((float(signal.limit_a), f"signal from {signal.source or 'API'}"))
        if not found:
            return None, "no limit"
        return min(found)

    def breakpoints(self, start: datetime, end: datetime) -> list[datetime]:
        """Moments in (start, end] when the limit may change."""
        points: set[datetime] = set()
        local_day = start.astimezone(self.zone).date()
        for window in self.windows:
            for days in (-1, 0, 1):
                day = local_day + timedelta(days=days)
                for t in (window.starts, window.ends):
                    points.add(datetime.combine(day, t, tzinfo=self.zone))
        for signal in self.signals:
            points.update((signal.starts_at, signal.expires_at))
        return sorted(p for p in points if start < p <= end)


def grid_limits(site: Site, electrical: SiteElectrical, now: datetime) -> GridLimits:
    static = electrical.static_limit_a()
    return GridLimits(
        static_a=None if static is None else float(static),
        zone=ZoneInfo(site.timezone),
        windows=list(GridLimitWindow.objects.filter(site=site)),
        signals=list(LimitSignal.objects.filter(site=site, expires_at__gt=now)),
    )


class ChargerRow(NamedTuple):
    pk: int
    identity: str
    is_online: bool
    ocpp_version: str


class SessionRow(NamedTuple):
    pk: int
    charger_id: int
    evse_id: int
    transaction_id: str
    power_w: float | None
    energy_wh: float


class SentRow(NamedTuple):
    """What was last sent to a place (read as plain values: a site has thousands)."""

    pk: int
    charger_id: int
    evse_id: int
    kind: str
    session_id: int | None
    periods_json: str  # read as text: parsed only when a schedule has several periods
    limit_a: float
    status: str
    attempts: int
    # Sent before the grace a charger has to follow it (read as a flag: converting a thousand
    # times costs more than the rest of the row).
    settled: bool

    @property
    def periods(self) -> list:
        return json.loads(self.periods_json)

    @property
    def single_limit(self) -> float | None:
        """The limit of a one-period schedule, without reading its JSON; None for more."""
        return self.limit_a if self.periods_json.count("[") == 2 else None


@dataclass
class SiteInputs:
    """Everything one recompute of a site needs, read once."""

    site: Site
    electrical: SiteElectrical
    now: datetime
    problem: alloc.Problem
    grid_limit_a: float | None
    grid_source: str
    chargers: dict[int, ChargerRow]
    evses: dict[str, tuple[int, int]]  # connector key -> (charger id, evse id)
    sessions: dict[str, SessionRow]
    phase_count: dict[int, int]  # charger id -> 1 or 3
    sent: dict[tuple[int, int, str], SentRow]
    # When each profile not accepted was sent (for retries): few rows, read apart.
    unaccepted_sent_at: dict[int, datetime] = field(default_factory=dict)
    history: alloc.History = field(default_factory=alloc.History)
    # The draws the last plan assumed, by session id, and when all were last cached.
    assumed: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # node id -> name
    # The newest full plan (the one the newest run stored or repeats): its id and digest.
    last_full_id: int | None = None
    last_full_digest: str = ""


class LastPlan(NamedTuple):
    """What a recompute needs of the site's newest plan, read in one query: the history it
    left, and the digest of the full plan it is (or repeats) to compare the new one with."""

    history: alloc.History
    assumed: dict[str, Any]  # the draws it assumed, and when all were last cached
    full_id: int | None
    full_digest: str


def _last_plan(site: Site) -> LastPlan:
    # Only the history of the last plan's inputs: the rest is a thousand rows of JSON.
    row = (
        LoadPlan.objects.filter(site=site)
        .values_list("pk", "digest", "same_as_id", "same_as__digest", "inputs__history")
        .first()
    )
    pk, digest, same_as_id, same_as_digest, data = row or (None, "", None, "", None)
    data = data or {}
    history = alloc.History(
        limits=data.get("limits", {}),
        charging_since=data.get("charging_since", {}),
        paused_since=data.get("paused_since", {}),
    )
    assumed = {"draws": data.get("draws", {}), "draws_at": data.get("draws_at", 0)}
    if same_as_id is not None:
        return LastPlan(history, assumed, same_as_id, same_as_digest or "")
    return LastPlan(history, assumed, pk, digest or "")


def _plain(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` query as the database driver returns them, without the
    field converters (a thousand chargers: converting every value costs more than reading
    it). Only for columns whose raw value is already what the caller uses: text, numbers cast
    to float, and flags (0/1 on SQLite, which the caller only tests for truth)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def latest_plan(site: Site) -> LoadPlan | None:
    return LoadPlan.objects.filter(site=site).select_related("same_as").first()


def latest_full_plan(site: Site) -> LoadPlan | None:
    """The newest run that stored its inputs and plan (the others point at one), without its
    JSON: only the digest is compared."""
    latest = LoadPlan.objects.filter(site=site).only("pk", "digest", "same_as_id").first()
    if latest is None or latest.same_as_id is None:
        return latest
    return LoadPlan.objects.only("pk", "digest").get(pk=latest.same_as_id)


def site_inputs(site: Site, electrical: SiteElectrical, now: datetime) -> SiteInputs:
    limits = grid_limits(site, electrical, now)
    grid_a, source = limits.at(now)
    nodes = [alloc.Node(GRID, "grid connection", grid_a if grid_a is not None else NO_LIMIT_A)]
    names = {GRID: "grid connection"}
    for circuit in Circuit.objects.filter(site=site):
        nodes.append(
            alloc.Node(
                node_id(circuit.pk),
                circuit.name,
                float(circuit.limit_a),
                phases=phases_of(circuit.phases),
                parent=node_id(circuit.parent_id),
            )
        )
        names[node_id(circuit.pk)] = circuit.name
    changes = []
    for moment in limits.breakpoints(now, now + HORIZON):
        later, _ = limits.at(moment)
        changes.append(
            alloc.LimitChange(
                offset_s=(moment - now).total_seconds(),
                limits={GRID: later if later is not None else NO_LIMIT_A},
            )
        )

    # A charger and its wiring in one row (the wiring is empty for a charger not set up).
    chargers, wiring = {}, {}
    for row in _plain(
        Charger.objects.filter(site=site).values_list(
            "pk",
            "identity",
            "is_online",
            "ocpp_version",
            "electrical__pk",
            "electrical__circuit_id",
            "electrical__phases",
            Cast("electrical__min_current_a", FloatField()),
            Cast("electrical__max_current_a", FloatField()),
            Cast("electrical__connector_max_a", TextField()),
        )
    ):
        chargers[row[0]] = ChargerRow(*row[:4])
        if row[4] is not None:
            wiring[row[0]] = row[5:]
    site_min = float(electrical.min_current_a)
    evse_ids: dict[int, set[int]] = {pk: set() for pk in chargers}
    for charger_id, evse_id in Connector.objects.filter(charger__site=site).values_list(
        "charger_id", "evse_id"
    ):
        if evse_id:
            evse_ids[charger_id].add(evse_id)
    active = [
        SessionRow(*row)
        for row in _plain(
            ChargingSession.objects.filter(charger__site=site, state=SessionState.ACTIVE)
            .order_by("-started_at", "-pk")
            .values_list(
                "pk",
                "charger_id",
                "evse_id",
                "transaction_id",
                Cast("power_w", FloatField()),
                Cast("energy_wh", FloatField()),
            )
        )
    ]
    for session in active:
        evse_ids.setdefault(session.charger_id, set()).add(session.evse_id or 1)
    connectors, evses, phase_count = [], {}, {}
    for charger_id in sorted(chargers):
        circuit_id, wired_phases, min_current, max_current, evse_max_json = wiring.get(
            charger_id, (None, THREE, None, DEFAULT_MAX_A, "{}")
        )
        # Mostly empty: parsed only when there is something in it.
        evse_max_a = json.loads(evse_max_json) if len(evse_max_json or "") > 2 else {}
        phases = phases_of(wired_phases)
        phase_count[charger_id] = len(phases)
        max_a = max_current
        min_a = min_current if min_current else site_min
        for evse_id in sorted(evse_ids[charger_id] or {1}):
            key = connector_key(charger_id, evse_id)
            evse_max = (evse_max_a or {}).get(str(evse_id))
            connectors.append(
                alloc.Connector(
                    key,
                    node_id(circuit_id),
                    phases=phases,
                    min_a=min_a,
                    max_a=float(evse_max) if evse_max is not None else max_a,
                )
            )
            evses[key] = (charger_id, evse_id)

    sent = {
        (row[1], row[2], row[3]): SentRow(*row)
        for row in _plain(
            SentProfile.objects.filter(charger__site=site)
            .annotate(
                periods_json=Cast("periods", TextField()),
                limit=Cast("limit_a", FloatField()),
                settled=ExpressionWrapper(Q(sent_at__lt=now - OBEY_GRACE), BooleanField()),
            )
            .values_list(
                "pk",
                "charger_id",
                "evse_id",
                "kind",
                "session_id",
                "periods_json",
                "limit",
                "status",
                "attempts",
                "settled",
            )
        )
    }
    needs = {
        n.session_id: n
        for n in SessionNeeds.objects.filter(
            session__charger__site=site, session__state=SessionState.ACTIVE
        )
    }
    by_key = {c.key: c for c in connectors}
    sessions, open_sessions = [], {}
    for session in active:  # newest first
        key = connector_key(session.charger_id, session.evse_id or 1)
        if key in open_sessions:
            continue  # an older session still open on the EVSE: the newer one charges
        open_sessions[key] = session
    for key, session in open_sessions.items():
        connector = by_key[key]
        volts = NOMINAL_VOLTAGE * len(connector.phases)
        draw = None if session.power_w is None else session.power_w / volts
        need = needs.get(session.pk)
        need_a = None
        if need and need.energy_needed_wh and need.departure_at and need.departure_at > now:
            remaining = max(0.0, need.energy_needed_wh - float(session.energy_wh or 0))
            hours = (need.departure_at - now).total_seconds() / 3600
            need_a = remaining / hours / volts
        fixed, why = _fixed(
            chargers[session.charger_id], session, connector, draw, sent, evses[key], now
        )
        sessions.append(
            alloc.Session(
                key,
                session_id=session.pk,
                priority=need.priority if need else 0,
                priority_label=need.priority_label if need else "",
                draw_a=draw,
                need_a=need_a,
                fixed_a=fixed,
                fixed_why=why,
            )
        )
    last = _last_plan(site)
    history, assumed = last.history, last.assumed
    problem = alloc.Problem(
        nodes=nodes,
        connectors=connectors,
        sessions=sessions,
        now=now.timestamp(),
        settings=alloc.Settings(sharing=electrical.sharing),
        history=history,
        changes=changes,
    )
    return SiteInputs(
        site=site,
        electrical=electrical,
        now=now,
        problem=problem,
        grid_limit_a=grid_a,
        grid_source=source,
        chargers=chargers,
        evses=evses,
        sessions=open_sessions,
        phase_count=phase_count,
        sent=sent,
        unaccepted_sent_at=dict(
            SentProfile.objects.filter(charger__site=site)
            .exclude(status=ProfileStatus.ACCEPTED)
            .values_list("pk", "sent_at")
        ),
        names=names,
        history=history,
        assumed=assumed,
        last_full_id=last.full_id,
        last_full_digest=last.full_digest,
    )


# Plain strings: a thousand sessions compare them on every run.
SESSION_KIND = str(ProfileKind.SESSION.value)
ACCEPTED = str(ProfileStatus.ACCEPTED.value)
NOT_FOLLOWED = {
    str(ProfileStatus.REJECTED.value): "its limit was rejected",
    str(ProfileStatus.FAILED.value): "its limit was not delivered",
}


def _fixed(charger, session, connector, draw, sent, evse, now) -> tuple[float | None, str]:
    """What a session is counted at when it does not follow a limit, and why; (None, "")
    when it does."""
    profile = sent.get((evse[0], evse[1], SESSION_KIND))
    ours = profile is not None and profile.session_id == session.pk
    if not charger.is_online:
        if ours and profile.status == ACCEPTED:
            return profile.limit_a, "offline, holding the limit it accepted"
        return connector.max_a, "offline without a limit it accepted"
    if ours and profile.status in NOT_FOLLOWED:
        return connector.max_a, NOT_FOLLOWED[profile.status]
    if (
        ours
        and profile.status == ACCEPTED
        and draw is not None
        and profile.settled
        and draw > profile.limit_a + DISOBEY_MARGIN_A
    ):
        return connector.max_a, f"draws {draw:.1f} A over its limit of {profile.limit_a:g} A"
    return None, ""


def plan_view(site: Site) -> dict[str, Any]:
    """The site's current plan as the API and the page show it."""
    plan = latest_plan(site)
    if plan is None:
        return {
            "site": site.pk,
            "computed_at": None,
            "trigger": "",
            "grid_limit_a": None,
            "grid_source": "no plan yet",
            "sharing": "",
            "nodes": [],
            "load": {},
            "connectors": [],
        }
    # A run that changed nothing shows the plan it repeats, at its own time.
    stored = plan.same_as or plan
    inputs = stored.inputs
    return {
        "site": site.pk,
        "computed_at": plan.computed_at,
        "trigger": plan.trigger,
        "grid_limit_a": inputs.get("grid_limit_a"),
        "grid_source": inputs.get("grid_source", ""),
        "sharing": inputs.get("sharing", ""),
        "nodes": inputs.get("nodes", []),
        "load": inputs.get("load", {}),
        "connectors": stored.allocations,
    }
