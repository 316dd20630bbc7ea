"""The alerts' ear on domain events: queue a rule evaluation once the fact is committed."""

import logging

from django.db import transaction

from chargers.alerts.models import Alert
from chargers.alerts.rules import HANDLERS
from chargers.events import Event, subscribe
from cpms import scoping

log = logging.getLogger(__name__)


def worth_evaluating(event: Event) -> bool:
    """Most events change nothing for alerts; a task for each would cost more than the
    message itself. Evaluate those that can open an alert, or resolve one that is open."""
    data = event.data
    if event.name == "connector.status" and data.get("status") == "Faulted":
        return True
    if event.name == "charger.boot":
        return True  # rejected boots and reboot loops are counted per boot
    if event.name in ("handshake.refused", "charger.offline"):
        return True
    if event.name == "charger.event":
        return bool(data.get("critical"))
    charger_id = data.get("charger_id")
    if charger_id is None:
        return False
    with scoping.unscoped():
        return Alert.objects.filter(
            tenant_id=event.tenant_id, charger_id=charger_id, resolved_at__isnull=True
        ).exists()


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
