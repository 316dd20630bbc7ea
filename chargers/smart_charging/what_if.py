"""What if these EVs charged at the site: the allocator's problem for a scenario an operator
enters, on the site's real tree. Pure: the caller reads the site (`selectors.site_inputs`),
allocates (`allocation.allocate`) and shows the plan; nothing is stored or sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django.utils.translation import gettext

from chargers.smart_charging import allocation as alloc
from cpms.texts import localized


@dataclass(frozen=True)
class Place:
    """Where a hypothetical EV can charge: a connector of the site, or a new connector below a
    node of the tree; with the phases, minimum and maximum an EV there has unless told."""

    label: str
    connector: str | None
    node: str
    phases: tuple[str, ...]
    min_a: float
    max_a: float


def places(
    problem: alloc.Problem,
    connector_labels: Mapping[str, str],
    node_names: Mapping[str, str],
    *,
    min_a: float,
    max_a: float,
) -> dict[str, Place]:
    """The places of the site's `problem` by the value a form posts: its connectors (named by
    `connector_labels`), then a new connector below each node (`node_names`), which takes
    `min_a` and `max_a`."""
    found = {
        f"connector:{c.key}": Place(
            connector_labels.get(c.key, c.key), c.key, c.node, c.phases, c.min_a, c.max_a
        )
        for c in problem.connectors
    }
    for node in problem.nodes:
        label = gettext("A new charger on %(node)s") % {"node": node_names.get(node.id, node.name)}
        found[f"node:{node.id}"] = Place(label, None, node.id, node.phases, min_a, max_a)
    return found


@dataclass(frozen=True)
class Ev:
    """A hypothetical EV, on a connector of the site (its key) or on a new connector below a
    node of the tree (`node`); `phases`, `min_a` and `max_a` are what it charges with,
    `need_a` the mean current it needs before it leaves."""

    name: str
    where: str = ""  # the place, as the page names it
    connector: str | None = None
    node: str | None = None
    phases: tuple[str, ...] = alloc.PHASES
    min_a: float = 6.0
    max_a: float = 32.0
    priority: int = 0
    need_a: float | None = None

    @property
    def key(self) -> str:
        return self.connector or f"what-if:{self.name}"


def scenario(
    base: alloc.Problem,
    evs: Sequence[Ev],
    *,
    keep_sessions: bool,
    grid_limit_a: float | None = None,
) -> alloc.Problem:
    """The site's problem `base` with `evs` charging: beside its sessions (`keep_sessions`,
    with what the last plan decided, so turns and held-back increases play as they would),
    or alone. `grid_limit_a` replaces the grid connection's limit now and over the horizon
    (the schedule and signals of `base` then do not apply)."""
    connectors = {c.key: c for c in base.connectors}
    for ev in evs:
        if ev.connector is not None:
            # The EV charges within what the connector allows.
            existing = connectors[ev.connector]
            connectors[ev.key] = replace(
                existing, phases=ev.phases, min_a=ev.min_a, max_a=min(ev.max_a, existing.max_a)
            )
        else:
            connectors[ev.key] = alloc.Connector(
                ev.key, str(ev.node), phases=ev.phases, min_a=ev.min_a, max_a=ev.max_a
            )
    sessions = [alloc.Session(ev.key, priority=ev.priority, need_a=ev.need_a) for ev in evs]
    nodes, changes = base.nodes, base.changes
    if grid_limit_a is not None:
        nodes = [n if n.parent is not None else replace(n, limit_a=grid_limit_a) for n in nodes]
        changes = ()
    return replace(
        base,
        nodes=nodes,
        connectors=list(connectors.values()),
        sessions=[*base.sessions, *sessions] if keep_sessions else sessions,
        history=base.history if keep_sessions else alloc.History(),
        changes=changes,
    )


def outcome(
    problem: alloc.Problem,
    plan: alloc.Plan,
    labels: Mapping[str, str],
    node_names: Mapping[str, str],
    *,
    now: datetime,
    zone: tzinfo,
    no_limit_a: float,
) -> dict[str, Any]:
    """What the plan gives each EV (`labels` by connector key, in the order shown) and each
    node, as the page shows it: a limit, its reason and the schedule ahead in the site's time;
    per node its limit (None where it is `no_limit_a`, a grid connection without one) and the
    current planned on each phase it carries."""
    order = {key: n for n, key in enumerate(labels)}
    evs = [
        {
            "label": labels.get(a.connector, a.connector),
            "limit_a": a.limit_a,
            "paused": a.paused,
            "reason": localized(a.reason_text, a.reason),
            "later": [
                ((now + timedelta(seconds=offset)).astimezone(zone), limit)
                for offset, limit in a.periods[1:]
            ],
        }
        for a in sorted(
            plan.allocations, key=lambda a: (order.get(a.connector, len(order)), a.connector)
        )
    ]
    nodes = [
        {
            "name": node_names.get(node.id, node.name),
            "depth": depth,
            "limit_a": None if node.limit_a == no_limit_a else node.limit_a,
            "load": [
                (phase, plan.load[node.id].get(phase) if phase in node.phases else None)
                for phase in alloc.PHASES
            ],
        }
        for node, depth in _tree_order(problem.nodes)
    ]
    return {"evs": evs, "nodes": nodes}


def _tree_order(nodes: Sequence[alloc.Node]) -> list[tuple[alloc.Node, int]]:
    """The nodes from the grid connection down, each followed by those below it, with their
    depth (the allocator has refused a tree with a cycle before this is asked)."""
    below: dict[str | None, list[alloc.Node]] = {}
    for node in nodes:
        below.setdefault(node.parent, []).append(node)
    ordered: list[tuple[alloc.Node, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for node in below.get(parent, []):
            ordered.append((node, depth))
            walk(node.id, depth + 1)

    walk(None, 0)
    return ordered
