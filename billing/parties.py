"""The parties of a billing document, as the document keeps them: the tenant as issuer (the
legal details of its billing settings) and a customer or a site owner as recipient. A document
takes them when it is issued, so a later change of address leaves it as it was sent. No
database here: callers hand in the rows."""

from __future__ import annotations

from typing import Any

from billing.models import BillingSettings, Customer
from cpms.models import SiteOwner, Tenant

# What EN 16931 needs of the seller before its invoices can be structured: the name and postal
# address with its country (BR-6, BR-8, BR-9), the VAT id its standard-rated lines call for
# (BR-S-2), and payment terms, as nothing else says when an amount is due (BR-CO-25). German
# and French rules want the whole address, so the street, postal code and city are needed too.
FACTURX_SELLER_FIELDS = (
    "legal_name",
    "street",
    "postal_code",
    "city",
    "country",
    "vat_id",
    "payment_terms",
)


def missing_for_facturx(values: dict[str, Any]) -> list[str]:
    """The settings' fields (by name) a tenant must fill in before it issues e-invoices."""
    return [name for name in FACTURX_SELLER_FIELDS if not str(values.get(name) or "").strip()]


def issuer(tenant: Tenant, settings: BillingSettings) -> dict[str, str]:
    return {
        "name": settings.legal_name or tenant.name,
        "street": settings.street,
        "postal_code": settings.postal_code,
        "city": settings.city,
        "country": settings.country,
        "vat_id": settings.vat_id,
    }


def customer(customer: Customer) -> dict[str, str]:
    return {
        "name": customer.name,
        "street": customer.street,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "country": customer.country,
        "vat_id": customer.vat_id,
        "email": customer.email,
    }


def site_owner(owner: SiteOwner) -> dict[str, str]:
    return {"name": owner.name, "email": owner.contact_email}
