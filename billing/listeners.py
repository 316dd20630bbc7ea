"""Billing's ear on the chargers' events: a session that ended, or whose figures changed after
it ended (a late stop replacing the server's figures, a corrected meter), is priced by a task.
After commit, so no record is priced from a stop that was rolled back.

A tenant with no tariff assigned anywhere prices nothing, and most sessions of a fleet that
does not bill would queue two tasks that find nothing to do: this process remembers for a while
which tenants assign no tariff and queues nothing for them. A first assignment is seen at once
here and within 30 s elsewhere; the sweep prices what ended meanwhile."""

from billing.models import TariffAssignment
from chargers.events import SessionEvent
from chargers.models import SessionState
from chargers.reservations.events import ReservationChanged
from cpms.handoff import queue_task
from cpms.memo import TenantFacts
from cpms.tenancy import scoping

assigns_a_tariff = TenantFacts(ttl=30.0)


def prices_nothing(tenant_id: int) -> bool:
    """Whether the tenant assigns no tariff; asked in the event's own scope only (the
    publisher's, on the thread that answered the charger), else assumed to price."""
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != tenant_id:
        return assigns_a_tariff.known(tenant_id) is False
    return not assigns_a_tariff.get(tenant_id, TariffAssignment.objects.exists)


def queue_pricing(event: SessionEvent) -> None:
    # Every meter reading of a running session publishes an update: only ended sessions count.
    if event.tenant_id is None or event.stopped_at is None:
        return
    if event.state != SessionState.COMPLETED or prices_nothing(event.tenant_id):
        return
    from billing.tasks import issue_cdr

    # Handed off: a stop is answered on this thread, which a stalled broker must not hold up
    # (the periodic sweep prices what a dropped task left).
    queue_task(issue_cdr, tenant_id=event.tenant_id, session_id=event.session_id)


def queue_final_cost(event: SessionEvent) -> None:
    """A 1.6 session's total goes to its charger's screen (California Pricing FinalCost)."""
    if event.tenant_id is None or event.state != SessionState.COMPLETED:
        return
    if prices_nothing(event.tenant_id):
        return
    from billing.tasks import send_final_cost

    queue_task(send_final_cost, tenant_id=event.tenant_id, session_id=event.session_id)


def queue_reservation_pricing(event: ReservationChanged) -> None:
    """A reservation that expired unused is priced in a record of its own (OCPI's
    RESERVATION_EXPIRES); one used by a session is priced in that session's record."""
    if event.tenant_id is None or event.status != "expired":
        return
    if prices_nothing(event.tenant_id):
        return
    from billing.tasks import issue_reservation_cdr

    queue_task(
        issue_reservation_cdr, tenant_id=event.tenant_id, reservation_id=event.reservation_id
    )
