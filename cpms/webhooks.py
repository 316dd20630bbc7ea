"""Webhooks: an outbox filled by domain events, emptied by Celery, signed for the receiver.

`write_outbox` listens to every domain event inside the transaction of the service that
published it (subscribed in `CpmsConfig.ready`), so a delivery row exists exactly when the fact
it reports was committed. The event classes say which of them are webhook events, and under
which type; their `data()` is the payload's `data`. Sending happens after the commit, in
`cpms.tasks.deliver_webhook`, one attempt per task run; a failed attempt is retried with
exponential backoff until `MAX_ATTEMPTS`, then the delivery is marked failed.

Receivers verify `CPMS-Signature: t=<unix time>,v1=<hex>`, the HMAC-SHA256 of
"<t>.<raw body>" with the endpoint's secret, and reject old timestamps to stop replays of
captured requests. Deliveries are at least once: the `id` of the event dedupes them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from cpms.events import DomainEvent, catalogue
from cpms.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cpms.tenancy import scoping


def webhook_events() -> dict[str, type[DomainEvent]]:
    """Each webhook event type and the domain event class delivered under it: the classes
    say whether and as what they are webhook events."""
    return {cls.webhook: cls for cls in catalogue() if cls.webhook is not None}


def webhook_event_types() -> list[str]:
    """The event types integrators may subscribe to, sorted."""
    return sorted(webhook_events())


def event_data() -> dict[str, list[str]]:
    """The fields of each event type's `data`, for the API reference; fields in brackets are
    present only sometimes."""
    return {
        event_type: [f"[{name}]" if sometimes else name for name, sometimes in cls.data_fields()]
        for event_type, cls in sorted(webhook_events().items())
    }


def event_reference() -> str:
    """The receiver's side of webhooks, in Markdown, for the API documentation."""
    rows = "\n".join(
        f"| `{name}` | {', '.join(f'`{field}`' for field in fields)} |"
        for name, fields in event_data().items()
    )
    return (
        'Each delivery is a POST of one JSON event: `{"id": <uuid>, "type": <event type>, '
        '"created": <ISO 8601>, "data": {...}}`, with the headers `CPMS-Event` (the '
        "type), `CPMS-Event-Id` (the same for every delivery and replay of an event: dedupe "
        "on it), `CPMS-Delivery` and `CPMS-Signature: t=<unix time>,v1=<hex>`. To verify, "
        "compute HMAC-SHA256 over `<t>.<raw body>` with the endpoint's secret, compare it with "
        "`v1` in constant time and refuse a `t` older than five minutes. Answer 2xx within 10 "
        "seconds; anything else is retried with exponential backoff (after "
        f"{RETRY_BASE_SECONDS} s, then twice as long each time, up to 6 h) for {MAX_ATTEMPTS} "
        "attempts in all, then the delivery is marked failed; "
        "deliveries can be replayed.\n\n| event type | `data` fields |\n|---|---|\n" + rows
    )


SIGNATURE_HEADER = "CPMS-Signature"
MAX_ATTEMPTS = getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 8)
RETRY_BASE_SECONDS = getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30)
RETRY_MAX_SECONDS = 6 * 3600
REQUEST_TIMEOUT = 10


def private_address_problem(url: str) -> str | None:
    """Why the server must not call this URL: it names or resolves to an address inside our
    own network (loopback, private, link-local...), which a webhook could otherwise probe.
    Names that do not resolve now are let through; delivery checks again every time."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return f"{host} is an internal address ({ip}); webhooks go to public hosts only."
    return None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now=None) -> bool:
    """What a receiver does (and what our tests do): check the signature and its age."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff(attempt: int) -> timedelta:
    """The wait after the `attempt`-th failure: base, 2 x base, 4 x base, ... up to 6 hours."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS))


# --- The outbox ---------------------------------------------------------------------------------

# The event types each tenant's active endpoints want, kept per process: every meter reading
# publishes an event, and most tenants want few types or none. A change to an endpoint clears
# this process's entry at once; other processes notice within ENDPOINTS_TTL seconds.
ENDPOINTS_TTL = 5.0
_wanted: dict[int, tuple[float, frozenset[str]]] = {}


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
def forget_endpoints(sender, instance: WebhookEndpoint, **kwargs) -> None:
    """An endpoint was saved or deleted: this process asks the database at the next event,
    and again once the change is committed, in case a reader cached the old state between."""
    tenant_id = instance.tenant_id
    _wanted.pop(tenant_id, None)
    transaction.on_commit(lambda: _wanted.pop(tenant_id, None))


def write_outbox(event: DomainEvent) -> None:
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
        queue(delivery)


def queue(delivery: WebhookDelivery, countdown: float = 0) -> None:
    """Hand a delivery to Celery once the transaction that wrote it has committed."""
    from cpms.tasks import deliver_webhook

    kwargs = {"delivery_id": delivery.pk, "tenant_id": delivery.tenant_id}
    transaction.on_commit(lambda: deliver_webhook.apply_async(kwargs=kwargs, countdown=countdown))


def replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again as a new delivery with the same event id (receivers dedupe)."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
        replay_of=delivery,
    )
    queue(copy)
    return copy


# --- Sending ------------------------------------------------------------------------------------


def attempt(*, delivery_id: int) -> WebhookDelivery | None:
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
    refusal = private_address_problem(delivery.endpoint.url)
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
            SIGNATURE_HEADER: sign(delivery.endpoint.secret, int(time.time()), body),
        },
    )
    started = time.monotonic()
    status_code, error, answer = None, "", ""
    try:
        if refusal:
            # Checked at each delivery: a name may have been pointed inward since it was saved.
            raise ValueError(refusal)
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
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
    elif delivery.attempt_count >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        wait = backoff(delivery.attempt_count)
        delivery.next_attempt_at = now + wait
        queue(delivery, countdown=wait.total_seconds())
    delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "delivered_at"])
    return delivery
