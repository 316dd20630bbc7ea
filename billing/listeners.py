"""Billing's ear on the chargers' events: a session that ended, or whose figures changed after
it ended (a late stop replacing the server's figures, a corrected meter), is priced by a task.
After commit, so no record is priced from a stop that was rolled back."""

import logging

from chargers.events import SessionEvent
from chargers.models import SessionState

log = logging.getLogger(__name__)


def queue_pricing(event: SessionEvent) -> None:
    # Every meter reading of a running session publishes an update: only ended sessions count.
    if event.tenant_id is None or event.stopped_at is None:
        return
    if event.state != SessionState.COMPLETED:
        return
    from billing.tasks import issue_cdr

    try:
        issue_cdr.delay(tenant_id=event.tenant_id, session_id=event.session_id)
    except Exception:  # a broker that is away; the periodic sweep prices it later
        log.warning("could not queue the pricing of session %s", event.session_id, exc_info=True)
