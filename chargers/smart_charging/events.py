"""Smart charging's events: a site's limits or tree changed (the control loop recomputes), and
a site's load plan changed (dashboards and integrators hear of it)."""

from __future__ import annotations

from dataclasses import dataclass

from cpms.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SiteLimitsChanged(DomainEvent):
    """The tree, a limit, a schedule, a signal or a session's needs changed at a site."""

    name = "load.limits_changed"

    site_id: int
    what: str


@dataclass(frozen=True, kw_only=True)
class LoadPlanChanged(DomainEvent):
    """A new plan gives at least one connector of the site another limit."""

    name = "load_plan.changed"
    webhook = "load_plan.changed"

    site_id: int
    plan_id: int
    trigger: str
    sessions: int
    paused: int
    planned_a: float
    limit_a: float | None
