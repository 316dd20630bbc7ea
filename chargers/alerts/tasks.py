from celery import shared_task

from chargers.alerts import rules
from cpms.events import event_class
from cpms.tenancy import scoping


@shared_task
def evaluate_event(*, tenant_id: int, name: str, data: dict) -> None:
    """Apply the rules to one domain event (its name and `data()`), in the event's tenant
    scope."""
    rules.on_event(event_class(name).from_data(data, tenant_id=tenant_id))


@shared_task(platform=True)
def evaluate_all() -> None:
    """Beat: every tenant's periodic conditions (silence, stuck sessions) and the safety net."""
    for _tenant in scoping.each_tenant():
        rules.evaluate_tenant()


@shared_task
def send_notification(*, tenant_id: int, alert_id: int) -> None:
    from chargers.alerts.notify import send

    send(alert_id=alert_id)
