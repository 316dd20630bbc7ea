"""Reads of one charger, shaped for the OCPP door: one query per connection."""

from __future__ import annotations

from chargers.models import (
    Charger,
)
from cpms.tenancy import scoping


def charger_for_handshake(*, tenant_slug: str, identity: str) -> Charger | None:
    """The charger an OCPP URL names, with its tenant, if that tenant is active: one query
    for the whole door on every connection of a fleet. The slug names the tenant, so the
    lookup runs unscoped and filters by it."""
    with scoping.unscoped():
        return (
            Charger.objects.select_related("tenant")
            .filter(identity=identity, tenant__slug=tenant_slug, tenant__is_active=True)
            .first()
        )


def charger_registration_status(*, charger_id: int) -> str:
    return Charger.objects.values_list("registration_status", flat=True).get(pk=charger_id)
