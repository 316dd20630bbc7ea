"""Writes of webhooks: the endpoints (where an integrator's events go, and the secret that
signs them) and the outbox: a delivery row written in the transaction of the fact it reports,
sent after the commit by Celery (`cpms.tasks.deliver_webhook`), one attempt per task run, retried
with backoff (the contract: `cpms.webhooks`)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from cpms import webhooks
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import DomainEvent
from cpms.handoff import queue_task
from cpms.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cpms.tenancy import scoping
from cpms.webhooks import new_secret

ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active")


def webhook_endpoint_create(**fields: Any) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (shown to its creator)."""
    unknown = set(fields) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"not endpoint fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(secret=new_secret(), **fields)
        audit.created(endpoint, ObjectType.WEBHOOK, label=endpoint.url)
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"not endpoint fields: {', '.join(sorted(unknown))}")
    before = audit.snapshot(endpoint, changes)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    with transaction.atomic():
        endpoint.save(update_fields=list(changes))
        audit.changed(endpoint, ObjectType.WEBHOOK, before=before, label=endpoint.url)
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret, effective for the next delivery."""
    before = audit.snapshot(endpoint, ["secret"])
    endpoint.secret = new_secret()
    with transaction.atomic():
        endpoint.save(update_fields=["secret"])
        audit.changed(
            endpoint, ObjectType.WEBHOOK, before=before, action=Verb.ROTATE, label=endpoint.url
        )
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        audit.deleted(endpoint, ObjectType.WEBHOOK, label=endpoint.url)
        endpoint.delete()


# --- The outbox ---------------------------------------------------------------------------------

# The event types each tenant's active endpoints want, kept per process: every meter reading
# publishes an event, and most tenants want few types or none. A change to an endpoint clears
# this process's entry at once; other processes notice within ENDPOINTS_TTL seconds.
ENDPOINTS_TTL = 5.0
_wanted: dict[int, tuple[float, frozenset[str]]] = {}


def forget_all_endpoints() -> None:
    """Drop this process's cached view of every tenant's endpoints (tests reuse tenant ids)."""
    _wanted.clear()


def wanted_types(tenant_id: int) -> frozenset[str]:
    now = time.monotonic()
    known = _wanted.get(tenant_id)
    if known is not None and known[0] > now:
        return known[1]
    with scoping.unscoped():
        lists = WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True).values_list(
            "event_types", flat=True
        )
        wanted = frozenset(event_type for types in lists for event_type in types)
    _wanted[tenant_id] = (now + ENDPOINTS_TTL, wanted)
    return wanted


@receiver([post_save, post_delete], sender=WebhookEndpoint)
def forget_endpoints(
    sender: type[WebhookEndpoint], instance: WebhookEndpoint, **kwargs: Any
) -> None:
    """An endpoint was saved or deleted: this process asks the database at the next event,
    and again once the change is committed, in case a reader cached the old state between."""
    tenant_id = instance.tenant_id
    _wanted.pop(tenant_id, None)
    transaction.on_commit(lambda: _wanted.pop(tenant_id, None))


def webhook_outbox_write(event: DomainEvent) -> None:
    """In the publishing transaction: a delivery row for each active endpoint that wants the
    event's webhook type."""
    event_type = event.webhook
    if event_type is None or event.tenant_id is None:
        return
    if event_type not in wanted_types(event.tenant_id):
        return
    # Services publish inside their tenant's scope, but a platform job may publish for any
    # tenant; the event names its tenant, so read that tenant's endpoints explicitly.
    with scoping.unscoped():
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(
                tenant_id=event.tenant_id, is_active=True
            )
            if event_type in endpoint.event_types
        ]
        if not endpoints:
            return
        event_id = uuid.uuid4()
        payload = {
            "id": str(event_id),
            "type": event_type,
            "created": timezone.now().isoformat(),
            "data": event.data(),
        }
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                tenant_id=event.tenant_id,
                endpoint=endpoint,
                event_id=event_id,
                event_type=event_type,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
            for endpoint in endpoints
        )
    for delivery in deliveries:
        webhook_delivery_queue(delivery)


def webhook_delivery_queue(delivery: WebhookDelivery, countdown: float = 0) -> None:
    """Hand a delivery to Celery once the transaction that wrote it has committed."""
    from cpms.tasks import deliver_webhook

    kwargs = {"delivery_id": delivery.pk, "tenant_id": delivery.tenant_id}
    transaction.on_commit(lambda: queue_task(deliver_webhook, countdown=countdown, **kwargs))


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again as a new delivery with the same event id (receivers dedupe)."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
        replay_of=delivery,
    )
    webhook_delivery_queue(copy)
    return copy


# --- Sending ------------------------------------------------------------------------------------


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt at a pending delivery, recorded; schedules the next one when it fails.

    Runs in the delivery's tenant scope (the task's door). Returns None when there is nothing
    to do: the delivery is gone, done, or already failed.
    """
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return None
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    refusal = webhooks.private_address_problem(delivery.endpoint.url)
    request = urllib.request.Request(  # noqa: S310 (the URL field only accepts http(s))
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CPMS-Webhooks/1",
            "CPMS-Event": delivery.event_type,
            "CPMS-Event-Id": str(delivery.event_id),
            "CPMS-Delivery": str(delivery.pk),
            webhooks.SIGNATURE_HEADER: webhooks.sign(
                delivery.endpoint.secret, int(time.time()), body
            ),
        },
    )
    started = time.monotonic()
    status_code, error, answer = None, "", ""
    try:
        if refusal:
            # Checked at each delivery: a name may have been pointed inward since it was saved.
            raise ValueError(refusal)
        with urllib.request.urlopen(request, timeout=webhooks.REQUEST_TIMEOUT) as response:  # noqa: S310
            status_code = response.status
            answer = response.read(1000).decode(errors="replace")
    except urllib.error.HTTPError as failure:
        status_code = failure.code
        answer = failure.read(1000).decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError) as failure:
        error = str(getattr(failure, "reason", failure))[:255] or type(failure).__name__
    now = timezone.now()
    WebhookAttempt.objects.create(
        tenant_id=delivery.tenant_id,
        delivery=delivery,
        at=now,
        status_code=status_code,
        error=error,
        response_body=answer,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    delivery.attempt_count += 1
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.DELIVERED,
            now,
            None,
        )
    elif delivery.attempt_count >= webhooks.MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        wait = webhooks.backoff(delivery.attempt_count)
        delivery.next_attempt_at = now + wait
        webhook_delivery_queue(delivery, countdown=wait.total_seconds())
    delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "delivered_at"])
    return delivery
