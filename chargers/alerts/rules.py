"""The rules: which events and which periodic checks open or resolve which alerts.

`on_event` runs in a Celery task queued by the events listener; `evaluate_tenant` runs from
beat for the conditions no event announces (silence) and as the safety net for events lost on
the way (the channel layer and the broker deliver at most once).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from chargers.alerts.models import Alert, AlertKind
from chargers.alerts.services import open_alert, resolve, rule_settings
from chargers.models import (
    Charger,
    ChargerBoot,
    ChargingSession,
    Connector,
    MeterSample,
    RegistrationStatus,
    SessionState,
)

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


def on_event(name: str, data: dict) -> None:
    handler = HANDLERS.get(name)
    if handler is not None:
        handler(data)


def _charger_offline(data: dict) -> None:
    charger = Charger.objects.filter(pk=data["charger_id"]).first()
    if charger is None or charger.is_online:
        return
    if charger.last_seen and charger.last_seen > timezone.now() - RECONNECT_GRACE:
        return  # just dropped: the periodic sweep opens the alert if it stays away
    open_alert(
        kind=AlertKind.CHARGER_OFFLINE,
        subject=charger_subject(charger.pk),
        title=f"{charger.identity} is offline",
        detail="No message arrived within the heartbeat allowance, or the connection closed.",
        charger_id=charger.pk,
    )


def _charger_online(data: dict) -> None:
    charger_id = data["charger_id"]
    resolve(kind=AlertKind.CHARGER_OFFLINE, subject=charger_subject(charger_id))
    identity = data.get("identity")
    if identity:
        # A charger that got in has its credentials right again.
        resolve(kind=AlertKind.HANDSHAKE_REFUSED, subject=f"identity:{identity}")


def _connector_status(data: dict) -> None:
    subject = connector_subject(data["charger_id"], data["evse_id"], data["connector_id"])
    if data.get("status") != FAULTED:
        resolve(kind=AlertKind.CONNECTOR_FAULTED, subject=subject)
        return
    charger = Charger.objects.filter(pk=data["charger_id"]).only("identity").first()
    if charger is None:
        return
    code = data.get("error_code") or "no error code"
    extra = " ".join(
        p for p in [data.get("info", ""), data.get("vendor_error_code", "")] if p
    ).strip()
    open_alert(
        kind=AlertKind.CONNECTOR_FAULTED,
        subject=subject,
        title=f"{charger.identity} connector {data['evse_id']} faulted: {code}",
        detail=extra,
        charger_id=data["charger_id"],
        evse_id=data["evse_id"],
        connector_id=data["connector_id"],
    )


def _charger_boot(data: dict) -> None:
    charger_id, identity = data["charger_id"], data.get("identity", "")
    subject = charger_subject(charger_id)
    if data.get("status") == RegistrationStatus.REJECTED:
        open_alert(
            kind=AlertKind.BOOT_REJECTED,
            subject=subject,
            title=f"{identity} was rejected at boot",
            detail="Approve the charger on its page if it belongs to your network.",
            charger_id=charger_id,
        )
    else:
        resolve(kind=AlertKind.BOOT_REJECTED, subject=subject)
    _check_reboots(charger_id, identity)


def reboot_window() -> timedelta:
    """How far back the reboot rule counts boots."""
    return timedelta(minutes=rule_settings(AlertKind.REPEATED_REBOOTS).threshold_minutes or 60)


def boots_in_window(charger_id: int, window: timedelta | None = None) -> tuple[int, timedelta]:
    """How often the charger booted within the reboot rule's window, and the window."""
    window = window or reboot_window()
    boots = ChargerBoot.objects.filter(charger_id=charger_id, at__gte=timezone.now() - window)
    return boots.count(), window


def _check_reboots(charger_id: int, identity: str) -> None:
    count, window = boots_in_window(charger_id)
    if count >= REBOOTS_TO_ALERT:
        open_alert(
            kind=AlertKind.REPEATED_REBOOTS,
            subject=charger_subject(charger_id),
            title=f"{identity} rebooted {count} times in {int(window.total_seconds() // 60)} min",
            charger_id=charger_id,
        )


def _handshake_refused(data: dict) -> None:
    identity = data.get("identity") or "(no id)"
    charger = Charger.objects.filter(identity=identity).only("pk").first()
    open_alert(
        kind=AlertKind.HANDSHAKE_REFUSED,
        subject=f"identity:{identity}",
        title=f"Connection refused for {identity}: {data.get('reason', '')}",
        detail=f"From {data.get('remote_addr') or 'an unknown address'}.",
        charger_id=charger.pk if charger else None,
    )


def _charger_event(data: dict) -> None:
    if not data.get("critical"):
        return
    charger = Charger.objects.filter(pk=data["charger_id"]).only("identity").first()
    if charger is None:
        return
    open_alert(
        kind=AlertKind.SECURITY_EVENT,
        subject=f"event:{data['event_id']}",
        title=f"{charger.identity}: {data.get('summary') or data.get('kind', 'security event')}",
        charger_id=charger.pk,
    )


def _session_stopped(data: dict) -> None:
    resolve(kind=AlertKind.SESSION_STUCK, subject=session_subject(data["session_id"]))


HANDLERS = {
    "charger.offline": _charger_offline,
    "charger.online": _charger_online,
    "connector.status": _connector_status,
    "charger.boot": _charger_boot,
    "handshake.refused": _handshake_refused,
    "charger.event": _charger_event,
    "session.stopped": _session_stopped,
}


# --- Periodic -----------------------------------------------------------------------------------


def evaluate_tenant() -> None:
    """Bring every condition's alert in line with the data, in the active tenant scope."""
    _offline_chargers()
    _faulted_connectors()
    _stuck_sessions()
    _quiet_rebooters()


def _offline_chargers() -> None:
    # Only chargers that were ever seen: a charger registered but never installed is not "down".
    for charger in Charger.objects.filter(
        is_online=False, last_seen__isnull=False, registration_status=RegistrationStatus.ACCEPTED
    ).only("pk", "identity", "is_online"):
        _charger_offline({"charger_id": charger.pk})
    online = Charger.objects.filter(is_online=True).values_list("pk", flat=True)
    for alert in Alert.objects.filter(
        kind=AlertKind.CHARGER_OFFLINE, resolved_at__isnull=True, charger_id__in=online
    ):
        resolve(kind=alert.kind, subject=alert.subject)


def _faulted_connectors() -> None:
    for connector in Connector.objects.filter(status=FAULTED):
        _connector_status(
            {
                "charger_id": connector.charger_id,
                "evse_id": connector.evse_id,
                "connector_id": connector.connector_id,
                "status": connector.status,
                "error_code": connector.error_code,
                "info": connector.info,
                "vendor_error_code": connector.vendor_error_code,
            }
        )
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
            resolve(kind=alert.kind, subject=alert.subject)


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
        open_alert(
            kind=AlertKind.SESSION_STUCK,
            subject=session_subject(session.pk),
            title=f"Session {session.transaction_id or session.pk} on "
            f"{session.charger.identity} looks stuck",
            detail="No meter values lately, or it never stopped.",
            charger_id=session.charger_id,
            evse_id=session.evse_id,
            session_id=session.pk,
        )
    stuck_ids = {s.pk for s in stuck}
    for alert in Alert.objects.filter(kind=AlertKind.SESSION_STUCK, resolved_at__isnull=True):
        if alert.session_id not in stuck_ids:
            resolve(kind=alert.kind, subject=alert.subject)


def _quiet_rebooters() -> None:
    for alert in Alert.objects.filter(kind=AlertKind.REPEATED_REBOOTS, resolved_at__isnull=True):
        # A reboot alert always names its charger; one that does not has nothing to watch.
        if alert.charger_id is None or boots_in_window(alert.charger_id)[0] < REBOOTS_TO_ALERT:
            resolve(kind=alert.kind, subject=alert.subject)
