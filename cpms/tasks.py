from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(platform=True)
def clear_expired_sessions() -> None:
    """Delete expired login sessions (the database backend never does it by itself)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task
def deliver_webhook(*, delivery_id: int, tenant_id: int) -> str | None:
    """One attempt at a webhook delivery; the next is queued by the attempt when it fails."""
    from cpms.services import webhooks as webhook_services

    delivery = webhook_services.webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else None


@shared_task(platform=True)
def requeue_due_webhooks() -> int:
    """Pending deliveries whose task was lost (a broker restart) are queued again."""
    from cpms import webhooks
    from cpms.models import DeliveryStatus, WebhookDelivery
    from cpms.services import webhooks as webhook_services

    late = timezone.now() - webhooks.backoff(1)
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=late)
    count = 0
    for delivery in due.only("pk", "tenant_id")[:1000]:
        webhook_services.webhook_delivery_queue(delivery)
        count += 1
    return count
