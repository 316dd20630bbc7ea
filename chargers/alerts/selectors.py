"""Reads of alerts: the list's filters, shared by its page and its CSV export."""

from __future__ import annotations

from django.db.models import QuerySet

from chargers.alerts.models import Alert, AlertKind, Severity

# The list's filters and the values each takes; an empty value filters nothing.
FILTERS = {
    "show": ["open", "all"],
    "kind": AlertKind.values,
    "severity": Severity.values,
}


def alert_table(*, show: str = "open", kind: str = "", severity: str = "") -> QuerySet[Alert]:
    """Alerts, newest first: only the open ones when `show` is "open", of a kind and severity."""
    alerts = Alert.objects.select_related("charger", "acknowledged_by")
    if show == "open":
        alerts = alerts.filter(resolved_at__isnull=True)
    if kind in AlertKind.values:
        alerts = alerts.filter(kind=kind)
    if severity in Severity.values:
        alerts = alerts.filter(severity=severity)
    return alerts
