import logging
import zoneinfo
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from billing import services
from billing.invoicing import previous_month
from billing.selectors import sessions_due_a_cost, sessions_to_price
from cpms.tenancy import scoping

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def issue_cdr(*, tenant_id: int, session_id: int) -> None:
    """Price one ended session. Delivered twice (acks_late: a worker lost mid-task), it issues
    one record: the service recognises figures it priced already."""
    services.cdr_issue(session_id=session_id)


@shared_task(acks_late=True)
def issue_reservation_cdr(*, tenant_id: int, reservation_id: int) -> None:
    """Price a reservation that expired unused; delivered twice, it issues one record."""
    services.reservation_cdr_issue(reservation_id=reservation_id)


@shared_task(platform=True)
def send_running_costs() -> None:
    """Beat: each tenant's running sessions that are due their cost on the charger's screen
    (every `cost_update_seconds`), sent through the command path without waiting."""
    now = timezone.now()
    for _tenant in scoping.each_tenant():
        for session_id in sessions_due_a_cost(now):
            services.running_cost_send(session_id=session_id, now=now)


@shared_task(acks_late=True)
def send_final_cost(*, tenant_id: int, session_id: int) -> None:
    """A 1.6 session's total to a charger that shows costs; sent once (a second delivery
    finds it noted)."""
    services.final_cost_send(session_id=session_id)


@shared_task(platform=True)
def price_missed_sessions() -> None:
    """Beat: the safety net for pricing tasks a broker lost, tenant by tenant. What it prices
    is logged: a platform team wants to know that tasks are being lost."""
    for tenant in scoping.each_tenant():
        priced = sum(
            services.cdr_issue(session_id=session_id) is not None
            for session_id in sessions_to_price()
        )
        if priced:
            log.warning(
                "tenant %s: the sweep priced %d ended sessions whose pricing task was lost",
                tenant.slug,
                priced,
            )


@shared_task(platform=True)
def issue_invoices() -> None:
    """Beat: each tenant's invoices and site owners' statements of the month that ended (in
    its time zone). Idempotent: run hourly, it issues a month's once (late records go on the
    next month's invoice)."""
    for tenant in scoping.each_tenant():
        # The month closes two days after its end: sessions running over midnight of the 1st,
        # and the records of chargers that reconnect late, are in by then.
        closed = timezone.now() - timedelta(days=2)
        period = previous_month(closed, zoneinfo.ZoneInfo(tenant.timezone))
        services.invoices_issue(period=period)
        services.statements_issue(period=period)
