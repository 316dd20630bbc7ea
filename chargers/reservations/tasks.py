"""The reservation domain's Celery tasks: each fetches by id, in its tenant's scope, and calls
one service. The beat tick closes expired reservations and sends those waiting for their
charger, for every tenant."""

from celery import shared_task

from chargers.reservations import selectors, services
from cpms.tenancy import scoping


@shared_task
def send_reservation(*, tenant_id: int, reservation_id: int) -> None:
    services.reservation_send(reservation_id=reservation_id)


@shared_task
def send_cancellation(*, tenant_id: int, reservation_id: int) -> None:
    services.reservation_send_cancellation(reservation_id=reservation_id)


@shared_task
def command_finished(*, tenant_id: int, command_id: int) -> None:
    services.reservation_command_finished(command_id=command_id)


@shared_task
def session_seen(*, tenant_id: int, session_id: int) -> None:
    services.reservation_use(session_id=session_id)


@shared_task
def send_waiting(*, tenant_id: int, charger_id: int) -> None:
    for reservation_id in selectors.waiting_on(charger_id):
        services.reservation_send(reservation_id=reservation_id)


@shared_task(platform=True)
def tick() -> None:
    """Beat, every minute: close each tenant's expired reservations (1.6 chargers do not say
    when theirs expire) and send those waiting for their charger to connect."""
    for tenant in scoping.each_tenant():
        services.reservations_close_expired()
        for reservation_id in selectors.waiting_to_be_sent():
            send_reservation.delay(tenant_id=tenant.pk, reservation_id=reservation_id)
