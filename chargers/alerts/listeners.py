"""The alerts' ear on domain events: queue a rule evaluation once the fact is committed."""

import logging

from django.db import transaction

from chargers.alerts.rules import HANDLERS
from chargers.events import Event, subscribe

log = logging.getLogger(__name__)


@subscribe
def queue_evaluation(event: Event) -> None:
    if event.tenant_id is None or event.name not in HANDLERS:
        return

    def queue():
        from chargers.alerts.tasks import evaluate_event

        try:
            evaluate_event.delay(tenant_id=event.tenant_id, name=event.name, data=event.data)
        except Exception:  # beat's periodic evaluation catches what an unqueued event missed
            log.warning("could not queue alert evaluation of %s", event.name, exc_info=True)

    transaction.on_commit(queue)
