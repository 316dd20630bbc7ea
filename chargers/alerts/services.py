"""Every write of alerts: open once, resolve when the condition clears, acknowledge.

Functions run in the tenant scope of their caller (a task or a view) and are idempotent, so the
event-driven path and the periodic safety net may both see the same condition.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from chargers.alerts.events import AlertOpened, AlertResolved
from chargers.alerts.models import DEFAULT_SEVERITY, DEFAULT_THRESHOLD, Alert, AlertRule
from cpms.events import publish
from cpms.models import User
from cpms.texts import Text, columns


@dataclass(frozen=True)
class RuleSettings:
    kind: str
    enabled: bool
    severity: str
    threshold_minutes: int | None
    never_stopped_hours: int
    rule: AlertRule | None


def rule_settings(kind: str) -> RuleSettings:
    """The tenant's rule for `kind`, or the defaults when it has not chosen."""
    rule = AlertRule.objects.filter(kind=kind).first()
    if rule is None:
        return RuleSettings(
            kind, True, DEFAULT_SEVERITY[kind], DEFAULT_THRESHOLD.get(kind), 24, None
        )
    return RuleSettings(
        kind,
        rule.enabled,
        rule.severity,
        rule.threshold_minutes or DEFAULT_THRESHOLD.get(kind),
        rule.never_stopped_hours,
        rule,
    )


def alert_open(
    *,
    kind: str,
    subject: str,
    title: Text | str,
    detail: Text | str = "",
    charger_id: int | None = None,
    evse_id: int | None = None,
    connector_id: int | None = None,
    session_id: int | None = None,
) -> Alert | None:
    """Open an alert unless the same condition is open already or the rule is switched off.
    Returns the new alert, or None when nothing was opened. `title` and `detail` are texts
    shown in each reader's language (`cpms.texts`); a detail may be the charger's own words."""
    settings = rule_settings(kind)
    if not settings.enabled:
        return None
    if Alert.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True).exists():
        return None
    (title_plain, title_text), (detail_plain, detail_text) = columns(title), columns(detail)
    try:
        # A savepoint: two workers racing for the same condition meet the unique constraint.
        with transaction.atomic():
            alert = Alert.objects.create(
                kind=kind,
                subject=subject[:120],
                severity=settings.severity,
                title=title_plain[:200],
                title_text=title_text,
                detail=detail_plain[:500],
                detail_text=detail_text,
                charger_id=charger_id,
                evse_id=evse_id,
                connector_id=connector_id,
                session_id=session_id,
                opened_at=timezone.now(),
            )
            publish(AlertOpened.of(alert, open_alerts=open_count()))
    except IntegrityError:
        return None
    if settings.rule is not None:
        from chargers.alerts.notify import queue_notification

        queue_notification(alert)
    return alert


def alert_resolve(*, kind: str, subject: str) -> int:
    """Resolve the open alert of a condition that cleared; returns how many were resolved."""
    resolved = 0
    for alert in Alert.objects.filter(kind=kind, subject=subject, resolved_at__isnull=True):
        resolved += _close(alert)
    return resolved


def _close(alert: Alert) -> int:
    with transaction.atomic():
        done = Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        if done:
            alert.resolved_at = timezone.now()
            publish(AlertResolved.of(alert, open_alerts=open_count()))
    return done


@transaction.atomic
def alert_rule_set(
    *,
    kind: str,
    enabled: bool,
    severity: str,
    threshold_minutes: int | None,
    never_stopped_hours: int,
    notify: list,
) -> AlertRule:
    """The tenant's choice for one kind of alert: on or off, how severe, after how long, and
    which members are notified."""
    rule, _ = AlertRule.objects.update_or_create(
        kind=kind,
        defaults={
            "enabled": enabled,
            "severity": severity,
            "threshold_minutes": threshold_minutes,
            "never_stopped_hours": never_stopped_hours,
        },
    )
    rule.notify.set(notify)
    return rule


# One-off facts have no condition that clears; acknowledging them closes them.
ONE_OFF = {"security_event", "handshake_refused"}


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user: User, note: str = "") -> None:
    """Record who saw the alert and what they are doing about it."""
    if alert.acknowledged_at is not None:
        raise ValueError("This alert was acknowledged already.")
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_by=user, acknowledged_at=now, acknowledgement_note=note[:500]
    )
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledgement_note = user, now, note
    if alert.kind in ONE_OFF and alert.is_open:
        _close(alert)


def open_count() -> int:
    return Alert.objects.filter(resolved_at__isnull=True).count()
