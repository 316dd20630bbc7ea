"""Writes of tenants themselves: a new charge point operator with its first admin."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from cpms.models import Membership, Role, Tenant
from cpms.tenancy import scoping


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str,
    timezone: str = "UTC",
    currency: str = "EUR",
) -> tuple[Tenant, bool]:
    """A new tenant with its first admin (who may administer it in the Django admin too).
    Returns the tenant and whether the admin's account is new (an existing one keeps its
    password)."""
    tenant = Tenant(slug=slug, name=name, timezone=timezone, currency=currency)
    tenant.full_clean()
    tenant.save()
    UserModel = get_user_model()
    email = admin_email.strip().lower()
    user = UserModel.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = UserModel.objects.create_user(email=email, password=admin_password, is_staff=True)
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    with scoping.scope(tenant):
        Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    return tenant, created
