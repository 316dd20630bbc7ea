"""The alerts' events: an alert opened or resolved, with the tenant's count of open alerts
(the dashboards' badge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from cpms.events import DomainEvent, only_when_set

if TYPE_CHECKING:
    from chargers.alerts.models import Alert


@dataclass(frozen=True, kw_only=True)
class AlertEvent(DomainEvent):
    alert_id: int
    kind: str
    severity: str
    title: str
    charger_id: int | None
    open_alerts: int
    # The title as a message code + parameters (`cpms.texts`): live pages show it in their
    # reader's language; `title` stays the English.
    title_text: dict | None = only_when_set()

    @classmethod
    def of(cls, alert: Alert, *, open_alerts: int) -> Self:
        return cls.from_row(alert, alert_id=alert.pk, open_alerts=open_alerts)


@dataclass(frozen=True, kw_only=True)
class AlertOpened(AlertEvent):
    name = "alert.opened"
    webhook = "alert.opened"


@dataclass(frozen=True, kw_only=True)
class AlertResolved(AlertEvent):
    name = "alert.resolved"
    webhook = "alert.resolved"
