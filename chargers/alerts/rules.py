"""The rules: which events and which periodic checks open or resolve which alerts.

`on_event` runs in a Celery task queued by the events listener; `evaluate_tenant` runs from
beat for the conditions no event announces (silence) and as the safety net for events lost on
the way (the channel layer and the broker deliver at most once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from chargers.alerts import restarts
from chargers.alerts import texts as t
from chargers.alerts.models import Alert, AlertKind
from chargers.alerts.services import alert_open, alert_resolve, rule_settings
from chargers.certificates.selectors import expiring_certificates
from chargers.events import (
    ChargerBooted,
    ChargerEventRecorded,
    ChargerOffline,
    ChargerOnline,
    ConnectorStatusReported,
    HandshakeRefused,
    SessionStopped,
)
from chargers.models import (
    Charger,
    ChargingSession,
    Connector,
    MeterSample,
    RegistrationStatus,
    SessionState,
)
from cpms.events import DomainEvent
from cpms.texts import Message

FAULTED = "Faulted"
REBOOTS_TO_ALERT = 3
# A charger whose socket closed is "offline" for alerts only once it stays away this long:
# chargers reconnect within seconds after a network blip or a server restart, and a fleet's
# worth of alerts and emails for that would bury the real outages.
RECONNECT_GRACE = timedelta(minutes=2)


def charger_subject(charger_id: int) -> str:
    return f"charger:{charger_id}"


def connector_subject(charger_id: int, evse_id: int, connector_id: int) -> str:
    return f"connector:{charger_id}/{evse_id}/{connector_id}"


def session_subject(session_id: int) -> str:
    return f"session:{session_id}"


def on_event(event: DomainEvent) -> None:
    handler = HANDLERS.get(type(event))
    if handler is not None:
        handler(event)


def _charger_offline(event: ChargerOffline) -> None:
    _check_offline(event.charger_id)


def _check_offline(charger_id: int) -> None:
    charger = Charger.objects.filter(pk=charger_id).first()
    if charger is None or charger.is_online:
        return
    if charger.last_seen and charger.last_seen > timezone.now() - RECONNECT_GRACE:
        return  # just dropped: the periodic sweep opens the alert if it stays away
    alert_open(
        kind=AlertKind.CHARGER_OFFLINE,
        subject=charger_subject(charger.pk),
        title=t.OFFLINE(charger=charger.identity),
        detail=t.OFFLINE_DETAIL(),
        charger_id=charger.pk,
    )


def _charger_online(event: ChargerOnline) -> None:
    alert_resolve(kind=AlertKind.CHARGER_OFFLINE, subject=charger_subject(event.charger_id))
    if event.identity:
        # A charger that got in has its credentials right again.
        alert_resolve(kind=AlertKind.HANDSHAKE_REFUSED, subject=f"identity:{event.identity}")


def _connector_status(reported: ConnectorStatusReported | Connector) -> None:
    """A connector's status as reported now, or as stored (the periodic sweep)."""
    subject = connector_subject(reported.charger_id, reported.evse_id, reported.connector_id)
    if reported.status != FAULTED:
        alert_resolve(kind=AlertKind.CONNECTOR_FAULTED, subject=subject)
        return
    charger = Charger.objects.filter(pk=reported.charger_id).only("identity").first()
    if charger is None:
        return
    code = reported.error_code or t.NO_ERROR_CODE()
    extra = " ".join(p for p in [reported.info, reported.vendor_error_code] if p).strip()
    alert_open(
        kind=AlertKind.CONNECTOR_FAULTED,
        subject=subject,
        title=t.FAULTED(charger=charger.identity, evse=reported.evse_id, code=code),
        detail=extra,
        charger_id=reported.charger_id,
        evse_id=reported.evse_id,
        connector_id=reported.connector_id,
    )


def _charger_boot(event: ChargerBooted) -> None:
    subject = charger_subject(event.charger_id)
    if event.status == RegistrationStatus.REJECTED:
        alert_open(
            kind=AlertKind.BOOT_REJECTED,
            subject=subject,
            title=t.BOOT_REJECTED(charger=event.identity),
            detail=t.BOOT_REJECTED_DETAIL(),
            charger_id=event.charger_id,
        )
    else:
        alert_resolve(kind=AlertKind.BOOT_REJECTED, subject=subject)
    _check_reboots(event.charger_id, event.identity)


def reboot_window() -> timedelta:
    """How far back the reboot rule counts boots."""
    return timedelta(minutes=rule_settings(AlertKind.REPEATED_REBOOTS).threshold_minutes or 60)


def boots_in_window(charger_id: int, window: timedelta | None = None) -> tuple[int, timedelta]:
    """How often the charger booted within the reboot rule's window, not counting restarts
    someone asked for (a reset, a firmware install), and the window."""
    window = window or reboot_window()
    return restarts.unexpected_boots(charger_id, timezone.now() - window), window


def _check_reboots(charger_id: int, identity: str) -> None:
    count, window = boots_in_window(charger_id)
    if count >= REBOOTS_TO_ALERT:
        alert_open(
            kind=AlertKind.REPEATED_REBOOTS,
            subject=charger_subject(charger_id),
            title=t.REBOOTS(
                charger=identity, count=count, minutes=int(window.total_seconds() // 60)
            ),
            charger_id=charger_id,
        )


def _handshake_refused(event: HandshakeRefused) -> None:
    identity = event.identity or "(no id)"
    charger = Charger.objects.filter(identity=identity).only("pk").first()
    alert_open(
        kind=AlertKind.HANDSHAKE_REFUSED,
        subject=f"identity:{identity}",
        title=t.REFUSED(identity=event.identity or t.REFUSED_NO_ID(), reason=event.reason),
        detail=(
            t.REFUSED_FROM(address=event.remote_addr)
            if event.remote_addr
            else t.REFUSED_FROM_UNKNOWN()
        ),
        charger_id=charger.pk if charger else None,
    )


def _charger_event(event: ChargerEventRecorded) -> None:
    if not event.critical:
        return
    if event.summary in restarts.RESTART_REPORTS | restarts.FIRMWARE_REPORTS:
        firmware = event.summary in restarts.FIRMWARE_REPORTS
        if restarts.expected_restart(event.charger_id, firmware=firmware):
            return  # the restart (or new firmware) someone asked for: not an incident
    charger = Charger.objects.filter(pk=event.charger_id).only("identity").first()
    if charger is None:
        return
    alert_open(
        kind=AlertKind.SECURITY_EVENT,
        subject=f"event:{event.event_id}",
        title=t.SECURITY_EVENT(charger=charger.identity, event=event.summary or event.kind),
        charger_id=charger.pk,
    )


def _session_stopped(event: SessionStopped) -> None:
    alert_resolve(kind=AlertKind.SESSION_STUCK, subject=session_subject(event.session_id))


# The events that can open or resolve an alert, and how. The listener subscribes to these.
HANDLERS: dict[type[DomainEvent], Callable[[Any], None]] = {
    ChargerOffline: _charger_offline,
    ChargerOnline: _charger_online,
    ConnectorStatusReported: _connector_status,
    ChargerBooted: _charger_boot,
    HandshakeRefused: _handshake_refused,
    ChargerEventRecorded: _charger_event,
    SessionStopped: _session_stopped,
}


# --- Periodic -----------------------------------------------------------------------------------


def evaluate_tenant() -> None:
    """Bring every condition's alert in line with the data, in the active tenant scope."""
    _offline_chargers()
    _faulted_connectors()
    _stuck_sessions()
    _quiet_rebooters()
    _certificates()


def _offline_chargers() -> None:
    # Only chargers that were ever seen: a charger registered but never installed is not "down".
    for charger in Charger.objects.filter(
        is_online=False, last_seen__isnull=False, registration_status=RegistrationStatus.ACCEPTED
    ).only("pk", "identity", "is_online"):
        _check_offline(charger.pk)
    online = Charger.objects.filter(is_online=True).values_list("pk", flat=True)
    for alert in Alert.objects.filter(
        kind=AlertKind.CHARGER_OFFLINE, resolved_at__isnull=True, charger_id__in=online
    ):
        alert_resolve(kind=alert.kind, subject=alert.subject)


def _faulted_connectors() -> None:
    for connector in Connector.objects.filter(status=FAULTED):
        _connector_status(connector)
    for alert in Alert.objects.filter(kind=AlertKind.CONNECTOR_FAULTED, resolved_at__isnull=True):
        charger_id, evse_id, connector_id = alert.charger_id, alert.evse_id, alert.connector_id
        # A connector's ids are never null: an alert missing one names no connector.
        still = (
            charger_id is not None
            and evse_id is not None
            and connector_id is not None
            and Connector.objects.filter(
                charger_id=charger_id,
                evse_id=evse_id,
                connector_id=connector_id,
                status=FAULTED,
            ).exists()
        )
        if not still:
            alert_resolve(kind=alert.kind, subject=alert.subject)


def stuck_sessions(now=None):
    """Active sessions with no meter value for the rule's minutes, or running too long."""
    settings = rule_settings(AlertKind.SESSION_STUCK)
    now = now or timezone.now()
    quiet_since = now - timedelta(minutes=settings.threshold_minutes or 30)
    too_old = now - timedelta(hours=settings.never_stopped_hours)
    recent = MeterSample.objects.filter(session=OuterRef("pk"), timestamp__gte=quiet_since)
    return (
        ChargingSession.objects.filter(state=SessionState.ACTIVE)
        .annotate(recent=Exists(recent), last_sample=Max("samples__timestamp"))
        .filter(Q(recent=False, started_at__lt=quiet_since) | Q(started_at__lt=too_old))
        .select_related("charger")
    )


def _stuck_sessions() -> None:
    if not rule_settings(AlertKind.SESSION_STUCK).enabled:
        return
    stuck = list(stuck_sessions())
    for session in stuck:
        alert_open(
            kind=AlertKind.SESSION_STUCK,
            subject=session_subject(session.pk),
            title=t.SESSION_STUCK(
                session=session.transaction_id or session.pk, charger=session.charger.identity
            ),
            detail=t.SESSION_STUCK_DETAIL(),
            charger_id=session.charger_id,
            evse_id=session.evse_id,
            session_id=session.pk,
        )
    stuck_ids = {s.pk for s in stuck}
    for alert in Alert.objects.filter(kind=AlertKind.SESSION_STUCK, resolved_at__isnull=True):
        if alert.session_id not in stuck_ids:
            alert_resolve(kind=alert.kind, subject=alert.subject)


def _quiet_rebooters() -> None:
    for alert in Alert.objects.filter(kind=AlertKind.REPEATED_REBOOTS, resolved_at__isnull=True):
        # A reboot alert always names its charger; one that does not has nothing to watch.
        if alert.charger_id is None or boots_in_window(alert.charger_id)[0] < REBOOTS_TO_ALERT:
            alert_resolve(kind=alert.kind, subject=alert.subject)


def certificate_subject(charger_id: int) -> str:
    return f"certificate:{charger_id}"


def _certificates() -> None:
    """A charger's installed certificate nearing its end (the tenant's renewal window) or past
    it; resolved once a newer certificate is installed."""
    expiring, expired = expiring_certificates()
    found: dict[str, set[str]] = {
        AlertKind.CERTIFICATE_EXPIRING: set(),
        AlertKind.CERTIFICATE_EXPIRED: set(),
    }
    checks: list[tuple[str, Any, Message]] = [
        (AlertKind.CERTIFICATE_EXPIRED, expired, t.CERTIFICATE_EXPIRED),
        (AlertKind.CERTIFICATE_EXPIRING, expiring, t.CERTIFICATE_EXPIRING),
    ]
    for kind, certificates, title in checks:
        for certificate in certificates:
            subject = certificate_subject(certificate.charger_id)
            found[kind].add(subject)
            alert_open(
                kind=kind,
                subject=subject,
                title=title(charger=certificate.charger.identity, date=certificate.not_after),
                detail=t.CERTIFICATE_DETAIL(serial=certificate.serial),
                charger_id=certificate.charger_id,
            )
    for kind, subjects in found.items():
        for alert in Alert.objects.filter(kind=kind, resolved_at__isnull=True):
            if alert.subject not in subjects:
                alert_resolve(kind=alert.kind, subject=alert.subject)
