"""The alerts' ear on domain events: queue a rule evaluation once the fact is committed."""

import functools
import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from chargers.alerts import rules
from chargers.alerts.models import Alert, AlertKind
from chargers.alerts.rules import HANDLERS
from chargers.events import Event, subscribe
from chargers.models import RegistrationStatus
from cpms.tenancy import scoping

log = logging.getLogger(__name__)


def worth_evaluating(event: Event) -> bool:
    """Most events change nothing for alerts; a task for each would cost more than the
    message itself. Evaluate those that can open an alert, or resolve one that is open."""
    data = event.data
    if event.name == "connector.status" and data.get("status") == "Faulted":
        return True
    if event.name == "charger.boot" and data.get("status") != RegistrationStatus.ACCEPTED:
        return True  # a rejected boot opens an alert
    if event.name == "charger.boot" and data.get("previous_boot_at", "") is None:
        # An accepted first boot: only boots open the alerts a boot resolves or repeats.
        return False
    if event.name in ("handshake.refused", "charger.offline"):
        return True
    if event.name == "charger.event":
        return bool(data.get("critical"))
    charger_id = data.get("charger_id")
    if charger_id is None:
        return False
    open_kinds = open_alert_kinds(event.tenant_id, charger_id)
    if event.name == "charger.boot":
        # An accepted boot resolves a rejected-boot alert or completes a reboot loop; a fleet
        # booting after a restart does neither, and costs no task per charger.
        return AlertKind.BOOT_REJECTED in open_kinds or (
            AlertKind.REPEATED_REBOOTS not in open_kinds and _may_complete_reboot_loop(event)
        )
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
        cursor.execute(_open_kinds_statement(), [tenant_id, charger_id])
        return {kind for (kind,) in cursor.fetchall()}


def _may_complete_reboot_loop(event: Event) -> bool:
    """Whether this boot may be one too many within the reboot rule's window. The boot says
    when the charger booted before it, so one long after the last is settled without
    counting."""
    previous = event.data.get("previous_boot_at")
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != event.tenant_id:
        return True  # not in the boot's own scope: let the task decide
    window = rules.reboot_window()
    if previous and datetime.fromisoformat(previous) < timezone.now() - window:
        return False  # no boot but this one within the window
    return rules.boots_in_window(event.data["charger_id"], window)[0] >= rules.REBOOTS_TO_ALERT


@subscribe
def queue_evaluation(event: Event) -> None:
    if event.tenant_id is None or event.name not in HANDLERS or not worth_evaluating(event):
        return

    def queue():
        from chargers.alerts.tasks import evaluate_event

        try:
            evaluate_event.delay(tenant_id=event.tenant_id, name=event.name, data=event.data)
        except Exception:  # beat's periodic evaluation catches what an unqueued event missed
            log.warning("could not queue alert evaluation of %s", event.name, exc_info=True)

    transaction.on_commit(queue)
