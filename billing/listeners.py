"""Billing's ear on the chargers' events: a session that ended, or whose figures changed after
it ended (a late stop replacing the server's figures, a corrected meter), is priced by a task.
After commit, so no record is priced from a stop that was rolled back."""

from chargers.events import SessionEvent
from chargers.models import SessionState
from cpms.handoff import queue_task


def queue_pricing(event: SessionEvent) -> None:
    # Every meter reading of a running session publishes an update: only ended sessions count.
    if event.tenant_id is None or event.stopped_at is None:
        return
    if event.state != SessionState.COMPLETED:
        return
    from billing.tasks import issue_cdr

    # Handed off: a stop is answered on this thread, which a stalled broker must not hold up
    # (the periodic sweep prices what a dropped task left).
    queue_task(issue_cdr, tenant_id=event.tenant_id, session_id=event.session_id)


def queue_final_cost(event: SessionEvent) -> None:
    """A 1.6 session's total goes to its charger's screen (California Pricing FinalCost)."""
    if event.tenant_id is None or event.state != SessionState.COMPLETED:
        return
    from billing.tasks import send_final_cost

    queue_task(send_final_cost, tenant_id=event.tenant_id, session_id=event.session_id)
