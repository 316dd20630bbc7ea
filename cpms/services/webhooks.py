"""Writes of webhook endpoints: where an integrator's events go, and the secret that signs
them. Deliveries themselves are written by the outbox (`cpms.webhooks`)."""

from __future__ import annotations

from typing import Any

from cpms.models import WebhookEndpoint
from cpms.webhooks import new_secret

ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active")


def webhook_endpoint_create(**fields: Any) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (shown to its creator)."""
    unknown = set(fields) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"not endpoint fields: {', '.join(sorted(unknown))}")
    return WebhookEndpoint.objects.create(secret=new_secret(), **fields)


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"not endpoint fields: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(changes))
    return endpoint


def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret, effective for the next delivery."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
