"""The alerts' ear on domain events: queue a rule evaluation of the events that can change an
alert. An after-commit listener (subscribed in `AlertsConfig.ready` to the classes the rules
handle), so no evaluation is queued for a fact that was rolled back."""

import functools
import logging

from django.db import connection
from django.utils import timezone

from chargers.alerts import rules
from chargers.alerts.events import AlertOpened
from chargers.alerts.models import Alert, AlertKind
from chargers.events import (
    ChargerBooted,
    ChargerEventRecorded,
    ChargerOffline,
    ConnectorStatusReported,
    HandshakeRefused,
    SessionStopped,
)
from chargers.models import RegistrationStatus
from cpms.events import DomainEvent
from cpms.handoff import queue_task
from cpms.memo import TenantFacts
from cpms.tenancy import rows, scoping

log = logging.getLogger(__name__)

# Whether the tenant has any open alert, remembered for a while: a fleet reconnecting at once
# (each socket's charger.online) asks once per tenant, not once per charger, while nothing is
# open. An alert opened meanwhile in another process is seen when this expires; the periodic
# evaluation resolves what an event missed.
with_open_alerts = TenantFacts(ttl=30.0)


def worth_evaluating(event: DomainEvent) -> bool:
    """Most events change nothing for alerts; a task for each would cost more than the
    message itself. Evaluate those that can open an alert, or resolve one that is open."""
    if isinstance(event, ConnectorStatusReported) and event.status == rules.FAULTED:
        return True
    if isinstance(event, ChargerBooted) and event.status != RegistrationStatus.ACCEPTED:
        return True  # a rejected boot opens an alert
    if isinstance(event, ChargerBooted) and event.previous_boot_at is None:
        # An accepted first boot: only boots open the alerts a boot resolves or repeats.
        return False
    if isinstance(event, HandshakeRefused | ChargerOffline):
        return True
    if isinstance(event, ChargerEventRecorded):
        return event.critical
    charger_id = getattr(event, "charger_id", None)
    if charger_id is None or event.tenant_id is None:
        return False
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != event.tenant_id:
        return True  # not in the event's own scope: let the task decide
    open_kinds = (
        open_alert_kinds(event.tenant_id, charger_id)
        if with_open_alerts.get(event.tenant_id, Alert.objects.filter(resolved_at=None).exists)
        else set()
    )
    if isinstance(event, ChargerBooted):
        # An accepted boot resolves a rejected-boot alert or completes a reboot loop; a fleet
        # booting after a restart does neither, and costs no task per charger.
        return AlertKind.BOOT_REJECTED in open_kinds or (
            AlertKind.REPEATED_REBOOTS not in open_kinds and _may_complete_reboot_loop(event)
        )
    if isinstance(event, SessionStopped):
        # A session's end resolves only its own stuck-session alert: with a charger's reboot
        # alert open, each of its sessions cost a task that changed nothing.
        return AlertKind.SESSION_STUCK in open_kinds
    return bool(open_kinds)


@functools.cache
def _open_kinds_statement() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('kind')} FROM {quote(Alert._meta.db_table)} "  # noqa: S608 (our names)
        f"WHERE {quote('tenant_id')} = %s AND {quote('charger_id')} = %s "
        f"AND {quote('resolved_at')} IS NULL"
    )


def open_alert_kinds(tenant_id: int, charger_id: int) -> set[str]:
    """The kinds of the charger's open alerts. Asked on most events of every charger (each
    connection, each status change), so as one fixed statement: the ORM's compilation of
    the same query costs several times the database's work."""
    with connection.cursor() as cursor:
        cursor.execute(_open_kinds_statement(), [rows.tenant_param(tenant_id), charger_id])
        return {kind for (kind,) in cursor.fetchall()}


def _may_complete_reboot_loop(event: ChargerBooted) -> bool:
    """Whether this boot may be one too many within the reboot rule's window. The boot says
    when the charger booted before it, so one long after the last is settled without
    counting."""
    previous = event.previous_boot_at
    window = rules.reboot_window()
    if previous and previous < timezone.now() - window:
        return False  # no boot but this one within the window
    return rules.boots_in_window(event.charger_id, window)[0] >= rules.REBOOTS_TO_ALERT


def queue_evaluation(event: DomainEvent) -> None:
    """After commit: queue the rules' evaluation of an event that can change an alert. Beat's
    periodic evaluation catches what an unqueued event missed."""
    if event.tenant_id is None or not worth_evaluating(event):
        return
    from chargers.alerts.tasks import evaluate_event

    # Handed off: this runs on the thread that answers the charger, which a broker that
    # stalls must not hold up; the periodic evaluation is the safety net.
    queue_task(evaluate_event, tenant_id=event.tenant_id, name=event.name, data=event.data())


def forget_open_alerts(event: AlertOpened) -> None:
    """An alert opened in this process: its tenant's events are worth a look again at once."""
    with_open_alerts.forget(event.tenant_id)
