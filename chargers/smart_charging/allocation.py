"""The allocator: a site's limits and its active sessions in, a current limit per connector, a
short schedule and a reason a person can read out. Pure: no database, no clock, no randomness
(the caller passes `now` and what the previous plan decided).

Currents are amperes per phase. Every node of the tree (the grid connection at the top, the
circuits below) has a limit on each phase it carries; a connector draws its limit on each phase
it is wired to, on every node from its circuit up to the grid connection. The guarantee: per
phase, at every node, the limits of the sessions that follow them plus what the others are
counted at (`Session.fixed_a`) never exceed the node's limit.

The steps, as OpenEVSE's load sharing and EVerest do them:

1. Sessions that do not follow their limit (offline, rejected, drawing over it) are counted
   at `fixed_a` first.
2. Minimums: sessions are admitted at their minimum (6 A by default) in order of priority, then
   of turn (below); one that does not fit is paused. Under sustained scarcity paused sessions
   take turns: one paused for `turn_s` goes before one that has charged for `turn_s`, so the
   same ones do not starve; the order depends only on the inputs.
3. What remains is shared by water-filling: equally, by priority (higher tiers are filled to
   their caps first) or by need (in proportion to the current each EV needs before departure),
   each session up to its cap: the connector's maximum, or what it draws plus a margin when it
   leaves much of its previous limit unused (reclaimed for the others).
4. Limits are rounded down to 0.1 A; an increase smaller than the hysteresis is held back, so a
   limit does not flap with every meter reading (decreases always apply: they are the safe way).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chargers.smart_charging import texts
from cpms.texts import Message, Text, english

PHASES: tuple[str, ...] = ("L1", "L2", "L3")
STEP = 0.1  # the resolution of a limit, in A
EPS = 1e-9
SHARING = ("equal", "priority", "need")


@dataclass(frozen=True)
class Node:
    """A node of the tree; the one without a parent is the grid connection."""

    id: str
    name: str
    limit_a: float
    phases: tuple[str, ...] = PHASES
    parent: str | None = None


@dataclass(frozen=True)
class Connector:
    key: str
    node: str
    phases: tuple[str, ...] = PHASES
    min_a: float = 6.0
    max_a: float = 32.0


# Sessions and allocations are built by the thousand on each run of a big site, and a frozen
# dataclass's __init__ costs three times a plain one's: these are plain, and not changed once
# built (`dataclasses.replace` makes a changed copy).
@dataclass(slots=True)
class Session:
    connector: str
    session_id: int = 0
    priority: int = 0
    priority_label: str = ""
    # The highest measured current on its phases, when known.
    draw_a: float | None = None
    # The mean current it needs to get its energy before departure, when known.
    need_a: float | None = None
    # Does not follow its limit (offline, rejected, over it): counted at this current.
    fixed_a: float | None = None
    fixed_why: Text = field(default_factory=texts.NOT_FOLLOWING)
    # The EV's own range (ISO 15118, or what an operator knows of it), within the connector's.
    ev_min_a: float | None = None
    ev_max_a: float | None = None


@dataclass(frozen=True)
class History:
    """What the previous plan decided, by connector key: limits (0 for paused) and since when
    (seconds, on the caller's clock) each one has been charging or paused."""

    limits: Mapping[str, float] = field(default_factory=dict)
    charging_since: Mapping[str, float] = field(default_factory=dict)
    paused_since: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    sharing: str = "equal"
    hysteresis_a: float = 1.0
    reclaim_margin_a: float = 2.0
    turn_s: float = 900.0


@dataclass(frozen=True)
class LimitChange:
    """From `offset_s` after now, these nodes have these limits (a schedule window, a signal
    that expires)."""

    offset_s: float
    limits: Mapping[str, float]


@dataclass(frozen=True)
class Problem:
    nodes: Sequence[Node]
    connectors: Sequence[Connector]
    sessions: Sequence[Session]
    now: float = 0.0
    settings: Settings = Settings()
    history: History = History()
    changes: Sequence[LimitChange] = ()


@dataclass(slots=True)
class Allocation:
    connector: str
    session_id: int
    limit_a: float
    paused: bool
    # In English (the API's `reason`), and as a text shown in the reader's language.
    reason: str
    # What limited it: a node id, or "max", "ev" (the EV's maximum), "draw", "hysteresis",
    # "fixed", "paused".
    binding: str
    # The short schedule: (seconds from now, limit A), the first at 0.
    periods: tuple[tuple[float, float], ...] = ()
    reason_text: Text = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    allocations: tuple[Allocation, ...]
    # Per connector key: the most it may draw when its charger loses the connection (every
    # connector at once at its fallback stays within every node's lowest limit in the horizon).
    fallback: Mapping[str, float]
    # Per node id and phase: the planned current (limits of sessions plus fixed currents).
    load: Mapping[str, Mapping[str, float]]
    history: History

    def by_connector(self) -> dict[str, Allocation]:
        return {a.connector: a for a in self.allocations}


class ProblemError(ValueError):
    """The tree or the sessions do not make sense (no root, a cycle, an unknown node)."""


# A whole number of steps k as amperes: k / 10 is the float nearest to k tenths, as
# round(k * STEP, 1) is, for a fraction of its cost (a recompute rounds thousands).
STEPS_PER_A = 10


def floor_step(value: float) -> float:
    return math.floor(value / STEP + 1e-6) / STEPS_PER_A if value > 0 else 0.0


def ceil_step(value: float) -> float:
    return math.ceil(value / STEP - 1e-6) / STEPS_PER_A


# --- the tree -------------------------------------------------------------------------------


@dataclass
class _Tree:
    nodes: dict[str, Node]
    paths: dict[str, tuple[str, ...]]  # node id -> itself and its ancestors
    # (node, phase) -> an index into the capacity arrays
    index: dict[tuple[str, str], int]
    limits: list[float]


def _tree(nodes: Sequence[Node], overrides: Mapping[str, float] | None = None) -> _Tree:
    by_id = {n.id: n for n in nodes}
    if len(by_id) != len(nodes):
        raise ProblemError("node ids repeat")
    roots = [n for n in nodes if n.parent is None]
    if len(roots) != 1:
        raise ProblemError("the tree needs exactly one grid connection")
    paths: dict[str, tuple[str, ...]] = {}
    for node in nodes:
        path, seen, current = [], set(), node
        while True:
            if current.id in seen:
                raise ProblemError(f"{node.name}: its parents form a cycle")
            seen.add(current.id)
            path.append(current.id)
            if current.parent is None:
                break
            if current.parent not in by_id:
                raise ProblemError(f"{current.name}: unknown parent {current.parent}")
            current = by_id[current.parent]
        paths[node.id] = tuple(path)
    index: dict[tuple[str, str], int] = {}
    limits: list[float] = []
    for node in nodes:
        limit = (overrides or {}).get(node.id, node.limit_a)
        for phase in PHASES:
            index[(node.id, phase)] = len(limits)
            # A node carries nothing on a phase it does not have.
            limits.append(max(0.0, limit) if phase in node.phases else 0.0)
    return _Tree(by_id, paths, index, limits)


def _slots(tree: _Tree, connector: Connector) -> tuple[int, ...]:
    """The capacity indices a connector draws on: each of its phases at each node above it."""
    if connector.node not in tree.paths:
        raise ProblemError(f"connector {connector.key}: unknown node {connector.node}")
    return tuple(
        tree.index[(node, phase)]
        for node in tree.paths[connector.node]
        for phase in connector.phases
    )


# --- one allocation at one moment -------------------------------------------------------------


@dataclass
class _Run:
    limits: dict[str, float]
    paused: dict[str, str]  # key -> the node id whose phase could not give the minimum
    binding: dict[str, str]
    residual: list[float]
    sessions_at: dict[int, int]  # capacity index -> sessions on it (admitted or paused)
    waiting: dict[str, int] | None = None  # node id -> paused sessions at or below it


def _min_of(connector: Connector) -> float:
    return ceil_step(min(connector.min_a, connector.max_a))


def _cap_of(connector: Connector, session: Session, history: History, settings: Settings):
    """The most a session can use now, and whether that is because it leaves current unused."""
    previous = history.limits.get(connector.key, 0.0)
    draw = session.draw_a
    # `<=`: a limit that was reclaimed (the draw plus the margin) stays reclaimed while the EV
    # draws the same; one that draws up to its limit gets the cap lifted at the next run.
    if draw is not None and previous > 0 and draw + settings.reclaim_margin_a <= previous + EPS:
        reclaimed = max(_min_of(connector), ceil_step(draw + settings.reclaim_margin_a))
        if reclaimed < connector.max_a:
            return reclaimed, True
    return connector.max_a, False


def _turn_order(
    sessions: Sequence[Session], history: History, now: float, turn_s: float
) -> list[Session]:
    """Who is admitted first: higher priority, then, within a priority, those charging for less
    than a turn, those that waited a whole turn (longest first), those that charged a whole turn
    (shortest first), and the rest (longest waiting first), each by connector key at a tie."""

    def rank(session: Session) -> tuple[int, int, float, str]:
        key = session.connector
        charging = history.limits.get(key, 0.0) > 0 and key in history.charging_since
        if charging:
            charged = now - history.charging_since[key]
            if charged < turn_s:
                return (-session.priority, 0, 0.0, key)
            return (-session.priority, 2, charged, key)
        waited = now - history.paused_since.get(key, now)
        if waited >= turn_s:
            return (-session.priority, 1, -waited, key)
        return (-session.priority, 3, -waited, key)

    return sorted(sessions, key=rank)


def _weights(sessions: Sequence[Session], sharing: str) -> dict[str, float]:
    if sharing != "need":
        return {s.connector: 1.0 for s in sessions}
    known = [s.need_a for s in sessions if s.need_a is not None and s.need_a > 0]
    default = sum(known) / len(known) if known else 1.0
    return {s.connector: max(0.01, s.need_a if s.need_a is not None else default) for s in sessions}


def _fill(
    members: list[str],
    limits: dict[str, float],
    caps: dict[str, float],
    weights: dict[str, float],
    residual: list[float],
    slots: dict[str, tuple[int, ...]],
    binding: dict[str, str],
    slot_node: list[str],
) -> None:
    """Raise the members' limits together (each by its weight) until each reaches its cap or a
    node phase it draws on is full (progressive filling: the level rises from event to event,
    one event per session or node phase)."""
    alive = {k for k in members if caps[k] - limits[k] > EPS}
    for key in members:
        if key not in alive:
            binding.setdefault(key, "max")
    if not alive:
        return
    rate: dict[int, float] = {}
    on_slot: dict[int, list[str]] = {}
    for key in alive:
        for slot in slots[key]:
            rate[slot] = rate.get(slot, 0.0) + weights[key]
            on_slot.setdefault(slot, []).append(key)
    left = {slot: residual[slot] for slot in rate}
    since = dict.fromkeys(rate, 0.0)
    base = {key: limits[key] for key in alive}
    heap = [((caps[k] - limits[k]) / weights[k], k) for k in alive]
    heapq.heapify(heap)

    def freeze(key: str, level: float, why: str) -> None:
        limits[key] = min(caps[key], base[key] + weights[key] * level)
        alive.discard(key)
        binding[key] = why
        for slot in slots[key]:
            left[slot] -= rate[slot] * (level - since[slot])
            since[slot] = level
            rate[slot] -= weights[key]

    level = 0.0
    while alive:
        node_at, full = math.inf, -1
        for slot, r in rate.items():
            if r > EPS:
                at = since[slot] + max(left[slot], 0.0) / r
                if at < node_at:
                    node_at, full = at, slot
        while heap and heap[0][1] not in alive:
            heapq.heappop(heap)
        cap_at = heap[0][0] if heap else math.inf
        if cap_at <= node_at:
            level = cap_at
            freeze(heapq.heappop(heap)[1], level, "max")
        else:
            level = node_at
            for key in on_slot[full]:
                if key in alive:
                    freeze(key, level, slot_node[full])
    for slot in rate:
        left[slot] -= rate[slot] * (level - since[slot])
        residual[slot] = left[slot]


def _allocate_once(
    tree: _Tree,
    connectors: dict[str, Connector],
    sessions: Sequence[Session],
    now: float,
    settings: Settings,
    history: History,
    hysteresis: bool,
    slots: dict[str, tuple[int, ...]],
    minimums: dict[str, float],
) -> tuple[_Run, dict[str, bool], dict[str, tuple[int, ...]]]:
    residual = list(tree.limits)
    slot_node = [""] * len(residual)
    for (node, _phase), slot in tree.index.items():
        slot_node[slot] = node
    run = _Run({}, {}, {}, residual, {})
    # Connectors on the same circuit and wiring share their slots (`allocate`): counted once.
    for on, count in Counter(slots[s.connector] for s in sessions).items():
        for slot in on:
            run.sessions_at[slot] = run.sessions_at.get(slot, 0) + count
    # 1. Those that do not follow a limit are counted at what they may draw.
    steered = []
    for session in sessions:
        if session.fixed_a is not None:
            for slot in slots[session.connector]:
                residual[slot] -= session.fixed_a
            run.binding[session.connector] = "fixed"
            # The limit to send it again: what it was given before (it may hold it), or its
            # minimum, the safe one.
            previous = history.limits.get(session.connector)
            minimum = minimums[session.connector]
            run.limits[session.connector] = (
                minimum if previous is None else min(session.fixed_a, previous)
            )
        else:
            steered.append(session)
    # 2. Minimums, by priority and turn.
    admitted: list[Session] = []
    for session in _turn_order(steered, history, now, settings.turn_s):
        key = session.connector
        minimum = minimums[key]
        on = slots[key]
        for slot in on:
            if residual[slot] < minimum - 1e-6:
                run.paused[key] = slot_node[slot]
                run.limits[key] = 0.0
                break
        else:
            for slot in on:
                residual[slot] -= minimum
            run.limits[key] = minimum
            admitted.append(session)
    # 3. The rest, shared.
    caps: dict[str, float] = {}
    reclaimed: dict[str, bool] = {}
    for session in admitted:
        caps[session.connector], reclaimed[session.connector] = _cap_of(
            connectors[session.connector], session, history, settings
        )
    weights = _weights(admitted, settings.sharing)
    if settings.sharing == "priority":
        tiers: dict[int, list[str]] = {}
        for session in admitted:
            tiers.setdefault(session.priority, []).append(session.connector)
        groups = [tiers[p] for p in sorted(tiers, reverse=True)]
    else:
        groups = [[s.connector for s in admitted]]
    for group in groups:
        _fill(group, run.limits, caps, weights, residual, slots, run.binding, slot_node)
    # 4. Round down; hold back small increases.
    for session in admitted:
        key = session.connector
        limit = max(minimums[key], floor_step(run.limits[key]))
        if reclaimed[key] and run.binding.get(key) == "max":
            run.binding[key] = "draw"
        previous = history.limits.get(key, 0.0)
        if hysteresis and previous > 0 and 0 < limit - previous < settings.hysteresis_a:
            limit = max(previous, minimums[key])
            run.binding[key] = "hysteresis"
        run.limits[key] = limit
    _enforce(tree, connectors, sessions, admitted, slots, run)
    return run, reclaimed, slots


def _enforce(tree, connectors, sessions, admitted, slots, run: _Run) -> None:
    """The guarantee, checked on the rounded limits: lower the largest limits above their
    minimum (then pause the last admitted) wherever a node phase would be exceeded. Rounding
    down makes this a no-op in practice; it is what makes the promise unconditional."""
    used = [0.0] * len(tree.limits)
    slot_node = {slot: node for (node, _phase), slot in tree.index.items()}
    for session in sessions:
        amount = session.fixed_a if session.fixed_a is not None else run.limits[session.connector]
        for slot in slots[session.connector]:
            used[slot] += amount
    for slot, limit in enumerate(tree.limits):
        while used[slot] > limit + 1e-6:
            on = [s for s in admitted if slot in slots[s.connector] and run.limits[s.connector] > 0]
            if not on:
                break  # only fixed currents: nothing here follows a limit
            above = [s for s in on if run.limits[s.connector] > _min_of(connectors[s.connector])]
            victim = max(above, key=lambda s: run.limits[s.connector]) if above else on[-1]
            key = victim.connector
            cut = STEP if above else run.limits[key]
            run.limits[key] = round(run.limits[key] - cut, 1)
            if run.limits[key] <= 0:
                run.limits[key] = 0.0
                run.paused[key] = slot_node[slot]
            for other in slots[key]:
                used[other] -= cut


# --- the plan ---------------------------------------------------------------------------------


def allocate(problem: Problem) -> Plan:
    """The plan for `problem`: see the module's docstring."""
    settings = problem.settings
    if settings.sharing not in SHARING:
        raise ProblemError(f"sharing: one of {', '.join(SHARING)}")
    connectors = {c.key: c for c in problem.connectors}
    sessions = [s for s in problem.sessions if s.connector in connectors]
    if len({s.connector for s in sessions}) != len(sessions):
        raise ProblemError("one session per connector")
    # A session is allocated within its EV's range; the offline fallback stays the
    # connector's (the next EV there may take more).
    ev_capped = set()
    for session in sessions:
        narrowed = within_ev(connectors[session.connector], session.ev_min_a, session.ev_max_a)
        if narrowed.max_a < connectors[session.connector].max_a:
            ev_capped.add(session.connector)
        connectors[session.connector] = narrowed
    tree = _tree(problem.nodes)
    # Which capacities each connector draws on: the same in every tree of the horizon (only
    # limits change), worked out once, and once per circuit and wiring (a thousand connectors
    # sit on a few dozen).
    by_wiring: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}
    slots = {}
    for key, connector in connectors.items():
        wiring = (connector.node, connector.phases)
        found = by_wiring.get(wiring)
        if found is None:
            found = by_wiring[wiring] = _slots(tree, connector)
        slots[key] = found
    minimums = {key: _min_of(connector) for key, connector in connectors.items()}
    run, reclaimed, _ = _allocate_once(
        tree, connectors, sessions, problem.now, settings, problem.history, True, slots, minimums
    )
    history = _next_history(sessions, run, problem.history, problem.now)

    # The short schedule: the same sessions under each limit change in the horizon.
    periods: dict[str, list[tuple[float, float]]] = {
        s.connector: [(0.0, run.limits.get(s.connector, 0.0))] for s in sessions
    }
    lowest = list(tree.limits)
    overrides: dict[str, float] = {}
    for change in sorted(problem.changes, key=lambda c: c.offset_s):
        overrides.update(change.limits)
        later_tree = _tree(problem.nodes, overrides)
        lowest = [min(a, b) for a, b in zip(lowest, later_tree.limits, strict=True)]
        later, _, _ = _allocate_once(
            later_tree,
            connectors,
            sessions,
            problem.now + change.offset_s,
            settings,
            history,
            False,
            slots,
            minimums,
        )
        for session in sessions:
            limit = later.limits.get(session.connector, 0.0)
            if session.fixed_a is not None:
                limit = run.limits.get(session.connector, 0.0)
            if periods[session.connector][-1][1] != limit:
                periods[session.connector].append((float(change.offset_s), limit))

    for key in ev_capped:
        if run.binding.get(key, "max") == "max" and key not in run.paused:
            run.binding[key] = "ev"
    allocations = []
    worded: dict[_Reason, tuple[str, Text]] = {}
    for session in sorted(sessions, key=lambda s: s.connector):
        key = session.connector
        said, reason = _worded(_reason(tree, connectors[key], session, run, settings), worded)
        allocations.append(
            Allocation(
                connector=key,
                session_id=session.session_id,
                limit_a=run.limits.get(key, 0.0),
                paused=key in run.paused,
                reason=said,
                reason_text=reason,
                binding="paused" if key in run.paused else run.binding.get(key, "max"),
                periods=tuple(periods[key]),
            )
        )
    return Plan(
        allocations=tuple(allocations),
        fallback=_fallback(tree, problem.connectors, lowest, slots),
        load=_load(tree, sessions, run, slots),
        history=history,
    )


def within_ev(connector: Connector, ev_min_a: float | None, ev_max_a: float | None) -> Connector:
    """The connector as an EV can use it: up to the EV's maximum, and from its minimum (an
    EV that needs more than the connector's minimum to charge at all)."""
    max_a, min_a = connector.max_a, connector.min_a
    if ev_max_a is not None and ev_max_a > 0:
        max_a = min(max_a, ev_max_a)
    if ev_min_a is not None:
        min_a = max(min_a, ev_min_a)
    if (max_a, min_a) == (connector.max_a, connector.min_a):
        return connector
    return Connector(connector.key, connector.node, connector.phases, min_a, max_a)


def _next_history(sessions, run: _Run, before: History, now: float) -> History:
    charging, paused = {}, {}
    for session in sessions:
        key = session.connector
        if run.limits.get(key, 0.0) > 0 or session.fixed_a is not None:
            was = before.limits.get(key, 0.0) > 0 and key in before.charging_since
            charging[key] = before.charging_since[key] if was else now
        else:
            paused[key] = before.paused_since.get(key, now) if key in before.paused_since else now
    limits = {s.connector: run.limits.get(s.connector, 0.0) for s in sessions}
    return History(limits=limits, charging_since=charging, paused_since=paused)


def _fallback(
    tree: _Tree,
    connectors: Iterable[Connector],
    lowest: list[float],
    slots: dict[str, tuple[int, ...]],
):
    """Each connector's safe share: at every node phase it draws on, the node's lowest limit
    in the horizon split over every connector below it on that phase, up to its maximum."""
    connectors = list(connectors)
    count = [0] * len(tree.limits)
    # Connectors on the same circuit and wiring share their slots (`allocate`): those once.
    wirings = Counter(slots[c.key] for c in connectors)
    for on, connected in wirings.items():
        for slot in on:
            count[slot] += connected
    share = [limit / n if n else math.inf for limit, n in zip(lowest, count, strict=True)]
    safe_on = {on: min((share[slot] for slot in on), default=math.inf) for on in wirings}
    return {c.key: floor_step(min(c.max_a, safe_on[slots[c.key]])) for c in connectors}


def _load(tree: _Tree, sessions, run: _Run, slots) -> dict[str, dict[str, float]]:
    used = [0.0] * len(tree.limits)
    for session in sessions:
        amount = session.fixed_a if session.fixed_a is not None else run.limits[session.connector]
        for slot in slots[session.connector]:
            used[slot] += amount
    load: dict[str, dict[str, float]] = {}
    for (node, phase), slot in tree.index.items():
        if phase in tree.nodes[node].phases:
            load.setdefault(node, {})[phase] = round(used[slot], 1)
    return load


# A reason before it is worded: its message and parameters, hashable, with the priority as its
# label (worded as texts.PRIORITY). Most connectors of a circuit share theirs, so each distinct
# one is worded once per run (`_worded`): wording every connector's was a third of a run.
_Reason = tuple[Message, tuple[tuple[str, object], ...]]


def _worded(reason: _Reason | Text, worded: dict[_Reason, tuple[str, Text]]) -> tuple[str, Text]:
    """The reason's English and its text (`cpms.texts`)."""
    if isinstance(reason, dict):
        return english(reason), reason
    known = worded.get(reason)
    if known is None:
        message, params = reason
        values = dict(params)
        if "priority" in values:
            label = values["priority"]
            values["priority"] = texts.PRIORITY(priority=label) if label else ""
        text = message(**values)
        known = worded[reason] = (english(text), text)
    return known


def _reason(
    tree: _Tree, connector: Connector, session: Session, run: _Run, settings: Settings
) -> _Reason | Text:
    key = connector.key
    limit = float(run.limits.get(key, 0.0))
    priority = session.priority_label or session.priority or ""
    if session.fixed_a is not None:
        fixed_priority = texts.PRIORITY(priority=priority) if priority else ""
        return texts.FIXED(why=session.fixed_why, amps=session.fixed_a, priority=fixed_priority)
    if key in run.paused:
        node = tree.nodes[run.paused[key]]
        if run.waiting is None:
            run.waiting = {}
            for at in run.paused.values():
                for above in tree.paths[at]:
                    run.waiting[above] = run.waiting.get(above, 0) + 1
        return texts.PAUSED, (
            ("node", node.name),
            ("node_limit", float(node.limit_a)),
            ("min", float(_min_of(connector))),
            ("waiting", run.waiting.get(node.id, 0)),
            ("turn", settings.turn_s / 60),
            ("priority", priority),
        )
    binding = run.binding.get(key, "max")
    if binding == "max":
        return texts.AT_MAX, (("limit", limit), ("priority", priority))
    if binding == "ev":
        return texts.AT_EV_MAX, (("limit", limit), ("priority", priority))
    if binding == "draw":
        return texts.DRAW, (("limit", limit), ("draw", float(session.draw_a or 0.0)))
    if binding == "hysteresis":
        return texts.HYSTERESIS, (
            ("limit", limit),
            ("gain", float(settings.hysteresis_a)),
            ("priority", priority),
        )
    node = tree.nodes[binding]
    phase_slots = [tree.index[(binding, p)] for p in connector.phases]
    shared = max(run.sessions_at.get(s, 0) for s in phase_slots)
    return (texts.SHARED_BY_ONE if shared == 1 else texts.SHARED), (
        ("limit", limit),
        ("node", node.name),
        ("node_limit", float(node.limit_a)),
        ("shared", shared),
        ("priority", priority),
    )
