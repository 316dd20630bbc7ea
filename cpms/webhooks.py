"""Webhooks: the contract with receivers (event types, payload fields, signatures, retries).
The outbox that domain events fill and Celery empties is in `cpms.services.webhooks`.

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
import secrets
import socket
import time
import urllib.parse
from datetime import timedelta

from django.conf import settings

from cpms.events import DomainEvent, catalogue


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
        ip = ipaddress.ip_address(str(address).split("%")[0])
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
