"""Reads: a site's tree, limits, sessions and what was sent, turned into the allocator's
problem; the grid limit at a moment (static, schedule windows, signals); the site's planned
and measured current over time; whether a charger's site is managed, the session on an EVSE
and the session limit last sent to it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import NotSupportedError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Avg,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql.compiler import SQLCompiler

from chargers.metering import OUTLET, POWER, TO_BASE_UNIT
from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    MeterSample,
    SessionState,
)
from chargers.ocpp.builders import CHARGING_LIMIT_ACTION
from chargers.ocpp.profiles import sent_session_limit
from chargers.ocpp.readers import charging_profile_accepted
from chargers.smart_charging import allocation as alloc
from chargers.smart_charging import cheaper, series, texts
from chargers.smart_charging.models import (
    NOMINAL_VOLTAGE,
    ChargerElectrical,
    Circuit,
    GridLimitWindow,
    GroupPriority,
    LimitSignal,
    LoadPlan,
    NeedsSource,
    Phases,
    ProfileKind,
    ProfileStatus,
    SentProfile,
    SiteElectrical,
)
from chargers.smart_charging.schedules import SentLimit
from cpms.models import Site
from cpms.tenancy import rows
from cpms.texts import Text

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


def grid_limits(
    site: Site, electrical: SiteElectrical, now: datetime, *, since: datetime | None = None
) -> GridLimits:
    """The grid connection's limits from `now` on (from `since` on, to look back)."""
    static = electrical.static_limit_a()
    return GridLimits(
        static_a=None if static is None else float(static),
        zone=ZoneInfo(site.timezone),
        windows=list(GridLimitWindow.objects.filter(site=site)),
        signals=list(LimitSignal.objects.filter(site=site, expires_at__gt=since or now)),
    )


def draw_per_phase(
    phases: tuple[str, ...], *, power_w: float | None = None, current_a: float | None = None
) -> float | None:
    """What an EV draws on each of its phases when its meter gives no phase: its overall
    current, or its power at the nominal voltage, shared evenly over the phases it is wired
    to. How the plans read a session's draw, and how the load chart reads meters."""
    if current_a is not None:
        return current_a / len(phases)
    if power_w is not None:
        return power_w / (NOMINAL_VOLTAGE * len(phases))
    return None


def needed_current(
    phases: tuple[str, ...], *, energy_wh: float, departure_at: datetime, now: datetime
) -> float | None:
    """The mean current per phase an EV needs to get `energy_wh` more before it leaves; None
    once its departure has passed."""
    if departure_at <= now:
        return None
    hours = (departure_at - now).total_seconds() / 3600
    return max(0.0, energy_wh) / hours / (NOMINAL_VOLTAGE * len(phases))


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
    token_id: int | None
    group_id: int | None  # the token's group


class Needs(NamedTuple):
    """A session's needs and priority as a recompute reads them (`SessionNeeds`)."""

    source: str
    priority: int
    priority_label: str
    energy_needed_wh: int | None
    departure_at: datetime | None
    min_current_a: float | None
    max_current_a: float | None
    max_schedule_tuples: int | None


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
    sent_ts: float  # when it was sent, Unix seconds

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
    identities: list[tuple[int, str]]  # (charger id, identity), sorted
    # When each profile not accepted was sent (for retries): few rows, read apart.
    unaccepted_sent_at: dict[int, datetime] = field(default_factory=dict)
    history: alloc.History = field(default_factory=alloc.History)
    # The draws the last plan assumed, by session id, and when all were last cached.
    assumed: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # node id -> name
    # The newest full plan (the one the newest run stored or repeats): its id and digest.
    last_full_id: int | None = None
    last_full_digest: str = ""
    # The grid limit over time, and the sessions that say what they need by when (cheaper
    # hours plan those).
    limits: GridLimits | None = None
    flexible: list[cheaper.Flexible] = field(default_factory=list)
    # Per connector key: the most periods its EV takes in a schedule (ISO 15118).
    tuples: dict[str, int] = field(default_factory=dict)
    # Per connector key: what a session's `need_a` is worked out from (the energy it still
    # needs, and its departure), which does not follow the clock as `need_a` does.
    needs_basis: dict[str, tuple[float, str]] = field(default_factory=dict)


class LastPlan(NamedTuple):
    """What a recompute needs of the site's newest plan, read in one query: the history it
    left, and the digest of the full plan it is (or repeats) to compare the new one with."""

    history: alloc.History
    assumed: dict[str, Any]  # the draws it assumed, and when all were last cached
    full_id: int | None
    full_digest: str


# Per site id: the newest plan this process stored (its id, and what the next run needs of
# it). The control loop runs a site's recomputes in the same few workers, one after the other:
# the next run finds its own last plan newest and skips parsing the history (a thousand
# sessions' limits and times, a tenth of a big site's recompute). A plan stored by another
# process is newer, and read.
_last_stored: dict[int, tuple[int, LastPlan]] = {}


def remember_last_plan(site_id: int, plan_id: int, last: LastPlan) -> None:
    """Called once the plan `plan_id` is committed."""
    _last_stored[site_id] = (plan_id, last)


def _newest_plan(site_id: int) -> QuerySet:
    return LoadPlan.objects.filter(site_id=site_id).values_list(
        "pk", "digest", "same_as_id", "same_as__digest"
    )[:1]


def _last_plan(site: Site) -> LastPlan:
    row = next(iter(rows.plain_rows(_newest_plan, site.pk)), None)
    pk, digest, same_as_id, same_as_digest = row or (None, "", None, "")
    stored = _last_stored.get(site.pk)
    if pk is not None and stored is not None and stored[0] == pk:
        return stored[1]
    # Only the history of the last plan's inputs: the rest is a thousand rows of JSON. A run
    # that repeated a plan stored only what differs from that plan's.
    plans = LoadPlan.objects.filter(site=site, pk=pk)
    own, repeated = (
        plans.values_list("inputs__history", "same_as__inputs__history").first() if pk else None
    ) or (None, None)
    data = {**(repeated or {}), **(own or {})}
    history = alloc.History(
        limits=data.get("limits", {}),
        charging_since=data.get("charging_since", {}),
        paused_since=data.get("paused_since", {}),
    )
    assumed = {"draws": data.get("draws", {}), "draws_at": data.get("draws_at", 0)}
    if same_as_id is not None:
        return LastPlan(history, assumed, same_as_id, same_as_digest or "")
    return LastPlan(history, assumed, pk, digest or "")


def managed_site_id(charger_id: int) -> int:
    """The charger's site id if that site is load-managed, else 0."""
    site_id = Charger.objects.filter(pk=charger_id).values_list("site_id", flat=True).first()
    if site_id is None:
        return 0
    return site_id if SiteElectrical.objects.filter(site_id=site_id, managed=True).exists() else 0


def running_session(charger_id: int, evse_id: int) -> ChargingSession | None:
    """The session charging on an EVSE: the newest one open there."""
    return (
        ChargingSession.objects.filter(
            charger_id=charger_id, evse_id=evse_id, state=SessionState.ACTIVE
        )
        .order_by("-started_at", "-pk")
        .first()
    )


# How many of a charger's newest charging-limit commands are looked through for the one that
# set a session's limit (the loop sends a charger one per EVSE and change, and its fallback).
LIMITS_LOOKED_AT = 50


def last_session_limit(
    charger_id: int, evse_id: int, transaction_id: str
) -> tuple[Command, SentLimit] | None:
    """The last session limit sent to a transaction that the charger may hold: sent, and not
    refused (the control loop's or an operator's). With its command."""
    commands = Command.objects.filter(
        charger_id=charger_id,
        action=CHARGING_LIMIT_ACTION,
        status__in=(CommandStatus.SENT, CommandStatus.ANSWERED),
    ).order_by("-created_at", "-pk")[:LIMITS_LOOKED_AT]
    for command in commands:
        limit = sent_session_limit(command.action, command.payload)
        if limit is None or (limit.evse_id, limit.transaction_id) != (evse_id, transaction_id):
            continue
        if command.status == CommandStatus.SENT or charging_profile_accepted(command.response):
            return command, limit
    return None


def latest_plan(site: Site) -> LoadPlan | None:
    return LoadPlan.objects.filter(site=site).select_related("same_as").first()


def latest_full_plan(site: Site) -> LoadPlan | None:
    """The newest run that stored its inputs and plan (the others point at one), without its
    JSON: only the digest is compared."""
    latest = LoadPlan.objects.filter(site=site).only("pk", "digest", "same_as_id").first()
    if latest is None or latest.same_as_id is None:
        return latest
    return LoadPlan.objects.only("pk", "digest").get(pk=latest.same_as_id)


class _OfATime(Func):
    """A function of one time column whose SQL differs between PostgreSQL and SQLite."""

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor not in ("postgresql", "sqlite"):
            vendor = connection.vendor
            raise NotSupportedError(f"load management needs PostgreSQL or SQLite, not {vendor}")
        return self.sql(column, list(params), connection.vendor)

    def sql(self, column: str, params: list[Any], vendor: str) -> tuple[str, list[Any]]:
        raise NotImplementedError


class Epoch(_OfATime):
    """A time column as Unix seconds (float): a thousand rows convert to floats for less than
    to datetimes, and a comparison with a moment is then a float's."""

    output_field = FloatField()

    def sql(self, column: str, params: list[Any], vendor: str) -> tuple[str, list[Any]]:
        if vendor == "postgresql":
            return f"date_part('epoch', {column})", params
        # SQLite's UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds, plus the fraction
        # as it is written (julianday's days would round off microseconds).
        seconds = f"CAST(strftime('%%s', {column}) AS REAL)"
        return f"({seconds} + CAST('0' || substr({column}, 20) AS REAL))", [*params, *params]


# The reads of a recompute, by site: compiled once per process (`rows.plain_rows`), their rows
# as the driver returns them (numbers cast to float, times as Unix seconds).


def _circuit_rows(site_id: int) -> QuerySet:
    return Circuit.objects.filter(site_id=site_id).values_list(
        "pk", "name", "limit_a", "phases", "parent_id"
    )


def _charger_rows(site_id: int) -> QuerySet:
    """A charger, its wiring and a connector in one row (the wiring is empty for a charger not
    set up; a charger has a row per connector, or one without)."""
    # Unordered: the rows are gathered by charger id (the model's order would sort them).
    return (
        Charger.objects.filter(site_id=site_id)
        .order_by()
        .values_list(
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
            "connectors__evse_id",
        )
    )


def _session_rows(site_id: int) -> QuerySet:
    """An active session and its needs in one row (the needs are empty for most), newest
    first."""
    return (
        ChargingSession.objects.filter(charger__site_id=site_id, state=SessionState.ACTIVE)
        .order_by("-started_at", "-pk")
        .values_list(
            "pk",
            "charger_id",
            "evse_id",
            "transaction_id",
            Cast("power_w", FloatField()),
            Cast("energy_wh", FloatField()),
            "id_token_id",
            "id_token__group_id",
            "needs__source",
            "needs__priority",
            "needs__priority_label",
            "needs__energy_needed_wh",
            Epoch("needs__departure_at"),
            Cast("needs__min_current_a", FloatField()),
            Cast("needs__max_current_a", FloatField()),
            "needs__max_schedule_tuples",
        )
    )


def _sent_rows(site_id: int) -> QuerySet:
    """What was last sent to each place of the site (`SentRow`)."""
    return SentProfile.objects.filter(charger__site_id=site_id).values_list(
        "pk",
        "charger_id",
        "evse_id",
        "kind",
        "session_id",
        Cast("periods", TextField()),
        Cast("limit_a", FloatField()),
        "status",
        "attempts",
        Epoch("sent_at"),
    )


def _group_priorities() -> QuerySet:
    return GroupPriority.objects.values_list("group_id", "priority", "label")


def pending_profiles(site_id: int) -> QuerySet:
    """The site's profiles sent and not answered yet, locked (`Epoch` times)."""
    return (
        # Only these rows: a lock on the joined chargers would hold up their sockets' writes.
        SentProfile.objects.select_for_update(of=("self",))
        .filter(charger__site_id=site_id, status=ProfileStatus.PENDING)
        .values_list("pk", "command_id", Epoch("sent_at"))
    )


class _Structure(NamedTuple):
    """A site's chargers, connectors and their wiring, as built from its charger rows."""

    rows: list[tuple]  # as read (`_charger_rows`)
    site_min: float
    chargers: dict[int, ChargerRow]
    connectors: list[alloc.Connector]
    evses: dict[str, tuple[int, int]]  # connector key -> (charger id, evse id)
    places: set[tuple[int, int]]  # (charger id, evse id)
    phase_count: dict[int, int]  # charger id -> 1 or 3
    identities: list[tuple[int, str]]  # (charger id, identity), sorted


def _build_structure(
    charger_rows: list[tuple], electrical: SiteElectrical, more: Iterable[tuple[int, int]] = ()
) -> _Structure:
    """The structure of the charger rows, with `more` (charger id, evse id) places."""
    chargers, wiring = {}, {}
    evse_ids: dict[int, set[int]] = {}
    for row in charger_rows:
        charger_id = row[0]
        if charger_id not in chargers:
            chargers[charger_id] = ChargerRow(*row[:4])
            evse_ids[charger_id] = set()
            if row[4] is not None:
                wiring[charger_id] = row[5:10]
        if row[10]:
            evse_ids[charger_id].add(row[10])
    for charger_id, evse_id in more:
        evse_ids.setdefault(charger_id, set()).add(evse_id)
    site_min = float(electrical.min_current_a)
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
    return _Structure(
        rows=charger_rows,
        site_min=site_min,
        chargers=chargers,
        connectors=connectors,
        evses=evses,
        places=set(evses.values()),
        phase_count=phase_count,
        identities=sorted((pk, c.identity) for pk, c in chargers.items()),
    )


# Per site id: the structure last built. A recompute mostly reads the same charger rows as the
# last one did (a charger going offline or rewired changes them): building a thousand
# connectors again would be a tenth of its time. Compared by value, so nothing goes stale.
_structures: dict[int, _Structure] = {}
STRUCTURES_KEPT = 256  # sites per process


def _structure(site_id: int, charger_rows: list[tuple], electrical: SiteElectrical) -> _Structure:
    """The site's structure, the last one built when the rows and the minimum are the same.
    Read-only: the structure is shared between recomputes."""
    known = _structures.get(site_id)
    if (
        known is not None
        and known.site_min == float(electrical.min_current_a)
        and known.rows == charger_rows
    ):
        return known
    built = _build_structure(charger_rows, electrical)
    if site_id not in _structures and len(_structures) >= STRUCTURES_KEPT:
        del _structures[next(iter(_structures))]  # the site built first
    _structures[site_id] = built
    return built


def site_inputs(site: Site, electrical: SiteElectrical, now: datetime) -> SiteInputs:
    limits = grid_limits(site, electrical, now)
    grid_a, source = limits.at(now)
    nodes = [alloc.Node(GRID, "grid connection", grid_a if grid_a is not None else NO_LIMIT_A)]
    names = {GRID: "grid connection"}
    for pk, name, limit_a, carried, parent_id in rows.plain_rows(_circuit_rows, site.pk):
        nodes.append(
            alloc.Node(
                node_id(pk),
                name,
                float(limit_a),
                phases=phases_of(carried),
                parent=node_id(parent_id),
            )
        )
        names[node_id(pk)] = name
    changes = []
    for moment in limits.breakpoints(now, now + HORIZON):
        later, _ = limits.at(moment)
        changes.append(
            alloc.LimitChange(
                offset_s=(moment - now).total_seconds(),
                limits={GRID: later if later is not None else NO_LIMIT_A},
            )
        )

    structure = _structure(site.pk, rows.plain_rows(_charger_rows, site.pk), electrical)
    # A session and its needs in one row (the needs are empty for most).
    active, needs = [], {}
    for row in rows.plain_rows(_session_rows, site.pk):
        active.append(SessionRow._make(row[:8]))
        if row[8] is not None:
            departure = None if row[12] is None else datetime.fromtimestamp(row[12], UTC)
            needs[row[0]] = Needs._make((*row[8:12], departure, *row[13:]))
    # A session on an EVSE its charger never reported is a connector too, for this run.
    unknown = {(s.charger_id, s.evse_id or 1) for s in active} - structure.places
    if unknown:
        structure = _build_structure(structure.rows, electrical, unknown)
    chargers, connectors = structure.chargers, structure.connectors
    evses, phase_count = structure.evses, structure.phase_count

    sent = {
        (row[1], row[2], row[3]): SentRow._make(row) for row in rows.plain_rows(_sent_rows, site.pk)
    }
    # When each profile not accepted was sent, as the datetime the retries compare: few.
    unaccepted_sent_at = {
        row.pk: datetime.fromtimestamp(row.sent_ts, UTC)
        for row in sent.values()
        if row.status != ACCEPTED
    }
    by_group: dict[int | None, tuple[int, str]] = {
        group: (priority, label) for group, priority, label in rows.plain_rows(_group_priorities)
    }
    by_key = {c.key: c for c in connectors}
    sessions, open_sessions = [], {}
    for session in active:  # newest first
        key = connector_key(session.charger_id, session.evse_id or 1)
        if key in open_sessions:
            continue  # an older session still open on the EVSE: the newer one charges
        open_sessions[key] = session
    flexible: list[cheaper.Flexible] = []
    settled_before = (now - OBEY_GRACE).timestamp()
    tuples: dict[str, int] = {}
    needs_basis: dict[str, tuple[float, str]] = {}
    for key, session in open_sessions.items():
        connector = by_key[key]
        draw = draw_per_phase(connector.phases, power_w=session.power_w)
        need = needs.get(session.pk)
        need_a = ev_min_a = ev_max_a = None
        if need and need.energy_needed_wh and need.departure_at:
            still = need.energy_needed_wh - float(session.energy_wh or 0)
            need_a = needed_current(
                connector.phases, energy_wh=still, departure_at=need.departure_at, now=now
            )
            if need_a is not None:
                needs_basis[key] = (still, need.departure_at.isoformat())
            if need_a is not None and still > 0:
                leaves = (need.departure_at - now).total_seconds()
                flexible.append(cheaper.Flexible(key, still, leaves))
        if need and need.max_schedule_tuples:
            tuples[key] = need.max_schedule_tuples
        if need:
            ev_min_a = None if need.min_current_a is None else float(need.min_current_a)
            ev_max_a = None if need.max_current_a is None else float(need.max_current_a)
        # One that does not follow its limit draws no more than its EV takes.
        fixed, why = _fixed(
            chargers[session.charger_id],
            session,
            alloc.within_ev(connector, ev_min_a, ev_max_a),
            draw,
            sent,
            evses[key],
            settled_before,
        )
        priority, label = _priority(need, session, by_group)
        sessions.append(
            alloc.Session(
                key,
                session_id=session.pk,
                priority=priority,
                priority_label=label,
                draw_a=draw,
                need_a=need_a,
                fixed_a=fixed,
                fixed_why=why,
                ev_min_a=ev_min_a,
                ev_max_a=ev_max_a,
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
        identities=structure.identities,
        sent=sent,
        unaccepted_sent_at=unaccepted_sent_at,
        names=names,
        history=history,
        assumed=assumed,
        last_full_id=last.full_id,
        last_full_digest=last.full_digest,
        limits=limits,
        flexible=flexible,
        tuples=tuples,
        needs_basis=needs_basis,
    )


# Per site id: (when read, monotonic; its energy prices as a tariff's terms, or None). A site's
# tariff changes seldom, and a recompute with EVs that said their needs asks each run: read
# again after this long.
PRICES_TTL = 60.0
_terms: dict[int, tuple[float, Any]] = {}


def site_prices(site: Site, now: datetime) -> list[cheaper.PricePeriod]:
    """The site's energy price per kWh over the next day, from the tariff its sessions get
    by default (assigned to the site or the whole tenant, no group): empty without one, or
    when it has no energy price by time of day."""
    from billing import selectors as billing

    at = time.monotonic()
    found = _terms.get(site.pk)
    if found is None or at - found[0] > PRICES_TTL:
        chosen = billing.tariff_for(
            site_id=site.pk, charger_id=0, evse_id=0, connector_id=0, token=None, at=now
        )
        found = (at, None if chosen is None else billing.terms(chosen.version))
        _terms[site.pk] = found
    terms = found[1]
    if terms is None:
        return []
    return cheaper.tariff_prices(terms, now, ZoneInfo(site.timezone))


# Plain strings: a thousand sessions compare them on every run.
SESSION_KIND = str(ProfileKind.SESSION.value)
FALLBACK_KIND = str(ProfileKind.FALLBACK.value)
ACCEPTED = str(ProfileStatus.ACCEPTED.value)
PENDING = str(ProfileStatus.PENDING.value)
NOT_FOLLOWED = {
    str(ProfileStatus.REJECTED.value): texts.REJECTED,
    str(ProfileStatus.FAILED.value): texts.UNDELIVERED,
}


def _priority(
    need: Needs | None, session: SessionRow, by_group: dict[int | None, tuple[int, str]]
) -> tuple[int, str]:
    """A session's priority: what an operator or an integrator set for it, else its id-token
    group's (the token's own when the token is a group), else 0. An EV's needs set none."""
    if need is not None and need.source != NeedsSource.EV:
        return need.priority, need.priority_label
    return by_group.get(session.group_id) or by_group.get(session.token_id) or (0, "")


def _fixed(
    charger, session, connector, draw, sent, evse, settled_before: float
) -> tuple[float | None, Text]:
    """What a session is counted at when it does not follow a limit, and why; (None, "")
    when it does. A limit sent before `settled_before` (Unix seconds) has had its grace."""
    profile = sent.get((evse[0], evse[1], SESSION_KIND))
    ours = profile is not None and profile.session_id == session.pk
    if not charger.is_online:
        if ours and profile.status == ACCEPTED:
            return profile.limit_a, texts.OFFLINE_HOLDING()
        return connector.max_a, texts.OFFLINE()
    if ours and profile.status in NOT_FOLLOWED:
        return connector.max_a, NOT_FOLLOWED[profile.status]()
    if (
        ours
        and profile.status == ACCEPTED
        and draw is not None
        and profile.sent_ts < settled_before
        and draw > profile.limit_a + DISOBEY_MARGIN_A
    ):
        return connector.max_a, texts.OVER_LIMIT(draw=float(draw), limit=float(profile.limit_a))
    return None, {}


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


# --- The load over time: planned and measured current, and the limit (the site's chart) -----

CURRENT = "Current.Import"
# The kinds of reading a session's draw is read from, best first: the currents per phase, its
# overall current, its power per phase, its overall power. Each session counts with the best
# kind it reported in the window only, so a charger reporting currents and power is not
# counted twice.
PHASE_CURRENT, OVERALL_CURRENT, PHASE_POWER, OVERALL_POWER = 4, 3, 2, 1
# The phase names of readings per phase (currents say L1, power between phase and neutral
# L1-N); line-to-line and neutral readings are not a phase's draw.
_LINES = {phase: (phase, f"{phase}-N") for phase in alloc.PHASES}


def _bucket_sql(column: str, vendor: str) -> str:
    """The index of the interval a time column falls in, with the origin (Unix seconds) and the
    interval's size as the two parameters; times before the origin are not asked for."""
    if vendor == "postgresql":
        # date_part is double precision; EXTRACT's numeric costs several times as much on a
        # day of a big site's samples.
        return f"CAST(FLOOR((date_part('epoch', {column}) - %s) / %s) AS INTEGER)"
    if vendor == "sqlite":
        # Times are UTC text there, which strftime('%s') reads as Unix seconds.
        return f"((CAST(strftime('%%s', {column}) AS INTEGER) - %s) / %s)"
    raise NotSupportedError(f"the load chart needs PostgreSQL or SQLite, not {vendor}")


class Bucket(_OfATime):
    """The index of the interval of `buckets` a time falls in (`series.Buckets`)."""

    output_field = IntegerField()

    def __init__(self, expression: str, buckets: series.Buckets) -> None:
        super().__init__(F(expression))
        self.origin, self.size = int(buckets.origin.timestamp()), buckets.size

    def sql(self, column: str, params: list[Any], vendor: str) -> tuple[str, list[Any]]:
        return _bucket_sql(column, vendor), [*params, self.origin, self.size]


def _readings(site: Site, buckets: series.Buckets) -> QuerySet:
    """Per session, interval, kind of reading and phase: the mean of the session's readings
    there (A, or W for power), from the readings of the site's chargers from `origin` on."""
    charger_ids, evse_ids = set(), {1}
    for charger_id, evse_id in Charger.objects.filter(site=site).values_list(
        "pk", "connectors__evse_id"
    ):
        charger_ids.add(charger_id)
        evse_ids.add(evse_id or 1)
    lines = [name for names in _LINES.values() for name in names]
    kind = Case(
        When(measurand=CURRENT, phase="", then=Value(OVERALL_CURRENT)),
        When(measurand=CURRENT, then=Value(PHASE_CURRENT)),
        When(phase="", then=Value(OVERALL_POWER)),
        default=Value(PHASE_POWER),
    )
    line = Case(
        *[When(phase__in=names, then=Value(phase)) for phase, names in _LINES.items()],
        default=Value(""),
    )
    # Power in kW counts in W (metering's units); currents come in A.
    scale = [When(unit=unit, then=Value(float(f))) for unit, f in TO_BASE_UNIT.items() if f != 1]
    amount = ExpressionWrapper(
        Cast("value", FloatField()) * Case(*scale, default=Value(1.0)),
        output_field=FloatField(),
    )
    return (
        MeterSample.objects.filter(
            # Charger, EVSE and time lead the samples' unique index: given as lists (a
            # subquery of the chargers makes PostgreSQL scan the whole table instead).
            charger_id__in=sorted(charger_ids),
            evse_id__in=sorted(evse_ids),
            timestamp__gte=buckets.origin,
            timestamp__lt=buckets.end,
            session__isnull=False,
            measurand__in=(CURRENT, POWER),
            location__in=OUTLET,
            value__isnull=False,
        )
        .filter(Q(phase="") | Q(phase__in=lines))
        .annotate(bucket=Bucket("timestamp", buckets), kind=kind, line=line)
        .values("session_id", "bucket", "kind", "line")
        .annotate(value=Avg(amount))
        .order_by()
    )


def _measured_statement(readings: str, connection: BaseDatabaseWrapper, by_circuit: bool) -> str:
    """The deltas of the sessions' summed draw: each reading's mean holds from its interval
    until the session's next reading of that kind, `lead` intervals (`series.READING_HOLD`)
    or the interval after the session stopped, whichever is first. Summed per interval (+)
    and per end (-), per wiring and kind of reading, and per circuit if asked: a few rows per
    interval, however many sessions."""
    q, vendor = connection.ops.quote_name, connection.vendor
    least = "LEAST" if vendor == "postgresql" else "MIN"
    stop = _bucket_sql(f"s.{q('stopped_at')}", vendor)
    circuit = f"e.{q('circuit_id')}" if by_circuit else "NULL"
    sessions = q(ChargingSession._meta.db_table)
    wiring = q(ChargerElectrical._meta.db_table)
    # Our table and column names, quoted; every value is a parameter.
    return f"""
WITH readings AS ({readings}),
spans AS (
  SELECT r.bucket AS bucket, r.kind AS kind, r.line AS line, r.value AS value,
    MAX(r.kind) OVER (PARTITION BY r.session_id) AS best,
    COALESCE(e.{q("phases")}, %s) AS wiring, {circuit} AS circuit,
    {least}(
      COALESCE(
        LEAD(r.bucket) OVER (PARTITION BY r.session_id, r.kind, r.line ORDER BY r.bucket),
        r.bucket + %s
      ),
      r.bucket + %s,
      CASE WHEN {stop} < r.bucket THEN r.bucket + 1 ELSE COALESCE({stop} + 1, r.bucket + %s) END
    ) AS until
  FROM readings r
  JOIN {sessions} s ON s.{q("id")} = r.session_id AND s.{q("tenant_id")} = %s
  LEFT JOIN {wiring} e ON e.{q("charger_id")} = s.{q("charger_id")}
)
SELECT bucket, wiring, circuit, kind, line, SUM(value) FROM spans WHERE kind = best
GROUP BY bucket, wiring, circuit, kind, line
UNION ALL
SELECT until, wiring, circuit, kind, line, -SUM(value) FROM spans WHERE kind = best
GROUP BY until, wiring, circuit, kind, line
"""  # noqa: S608


def _per_phase(kind: int, line: str, phases: tuple[str, ...], value: float):
    """(phase, A) of a reading of `kind` on a charger wired to `phases`."""
    if len(phases) == 1:
        # A single-phase charger's own L1 is whichever phase of the site it is wired to.
        line = phases[0]
    if kind == PHASE_CURRENT:
        return [(line, value)]
    if kind == PHASE_POWER:
        return [(line, draw_per_phase((line,), power_w=value))]
    reading = {"current_a": value} if kind == OVERALL_CURRENT else {"power_w": value}
    share = draw_per_phase(phases, **reading)
    return [(phase, share) for phase in phases]


def _measured_deltas(
    site: Site, buckets: series.Buckets, *, by_circuit: bool
) -> dict[int | None, dict[str, dict[int, float]]]:
    """Per circuit (None: on no circuit, or the whole site unless `by_circuit`) and phase, the
    deltas by interval of the sessions' summed draw (see `series.held_sums`)."""
    readings = _readings(site, buckets)
    inner, inner_params = readings.query.sql_with_params()
    connection = connections[readings.db]
    statement = _measured_statement(inner, connection, by_circuit)
    lead, stop = buckets.lead, [int(buckets.origin.timestamp()), buckets.size]
    tenant = rows.tenant_param(site.tenant_id)
    params = [*inner_params, THREE, lead, lead, *stop, *stop, lead, tenant]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    deltas: dict[int | None, dict[str, dict[int, float]]] = {}
    for index, wiring, circuit, kind, line, value in found:
        by_phase = deltas.setdefault(circuit, {phase: {} for phase in alloc.PHASES})
        for phase, amperes in _per_phase(kind, line, phases_of(wiring), float(value)):
            by_phase[phase][index] = by_phase[phase].get(index, 0.0) + amperes
    return deltas


def measured_current(site: Site, buckets: series.Buckets) -> dict[str, list[float]]:
    """Per phase, the site's sessions' summed draw in each interval of the window (A)."""
    deltas = _measured_deltas(site, buckets, by_circuit=False).get(None, {})
    return {phase: series.held_sums(deltas.get(phase, {}), buckets) for phase in alloc.PHASES}


def node_draws(site: Site, circuits: list[Circuit], now: datetime) -> dict[str, dict[str, float]]:
    """Per node id, what the sessions below it draw now per phase (A): each session's newest
    reading, if it is not older than `series.READING_HOLD`."""
    buckets = series.Buckets.ending(now, timedelta(minutes=1), timedelta(minutes=1))
    parents = {c.pk: c.parent_id for c in circuits}
    draws: dict[str, dict[str, float]] = {}
    for circuit_id, by_phase in _measured_deltas(site, buckets, by_circuit=True).items():
        path, at = [GRID], circuit_id
        # Up to the grid connection; the bound only matters for a cycle the services refuse.
        while at is not None and len(path) <= len(parents):
            path.append(node_id(at))
            at = parents.get(at)
        for phase, deltas in by_phase.items():
            (value,) = series.held_sums(deltas, buckets)
            for node in path:
                totals = draws.setdefault(node, dict.fromkeys(alloc.PHASES, 0.0))
                totals[phase] = round(totals[phase] + value, 1)
    return draws


def _grid_load(relation: str, phase: str) -> Cast:
    value = KeyTransform(GRID, KeyTransform("load", relation))
    return Cast(KeyTextTransform(phase, value), FloatField())


def planned_current(site: Site, buckets: series.Buckets) -> dict[str, list[float | None]]:
    """Per phase, the current the plan in force at the end of each interval planned for the
    whole site (the sum of its limits and of what it counted others at, A)."""
    plans = LoadPlan.objects.filter(site=site)
    last_of = dict(
        plans.filter(computed_at__gte=buckets.start, computed_at__lt=buckets.end)
        .annotate(bucket=Bucket("computed_at", buckets))
        .values("bucket")
        .annotate(last=Max("computed_at"))
        .order_by()
        .values_list("last", "bucket")
    )
    before = (
        plans.filter(computed_at__lt=buckets.start)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    # Only the plans shown are read (their inputs are large); a run that repeated an earlier
    # plan finds its load there.
    loads = {
        phase: Coalesce(_grid_load("inputs", phase), _grid_load("same_as__inputs", phase))
        for phase in alloc.PHASES
    }
    by_index: dict[int, dict[str, float]] = {}
    opening = None
    for at, *values in (
        plans.filter(computed_at__in=[*last_of, *([before] if before else [])])
        .annotate(**loads)
        .order_by("computed_at", "pk")
        .values_list("computed_at", *alloc.PHASES)
    ):
        load = {p: v for p, v in zip(alloc.PHASES, values, strict=True) if v is not None}
        if at in last_of:
            by_index[last_of[at]] = load
        else:
            opening = load
    return series.carried(by_index, opening, buckets)


def limit_current(site: Site, buckets: series.Buckets, now: datetime) -> list[float | None]:
    """The grid connection's limit per phase in force at the end of each interval (static,
    schedule windows and signals as they are stored now); None where there is none."""
    electrical = SiteElectrical.objects.filter(site=site).first()
    if electrical is None:
        return [None] * buckets.count
    electrical.site = site  # its limit in kW, without reading the site again
    limits = grid_limits(site, electrical, now, since=buckets.start)
    return [limits.at(moment)[0] for moment in buckets.closes(now)]


def load_chart(site: Site, window: series.Window, now: datetime) -> dict[str, list]:
    """The site's planned and measured current per phase and its limit over `window`."""
    buckets = series.Buckets.ending(now, window.span, window.size)
    return series.chart(
        buckets,
        ZoneInfo(site.timezone),
        window.label_format,
        measured=measured_current(site, buckets),
        planned=planned_current(site, buckets),
        limit=limit_current(site, buckets, now),
    )
