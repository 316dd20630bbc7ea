"""Writes of chargers as operators manage them: registration, passwords, onboarding."""

from __future__ import annotations

from django.utils import timezone

from chargers import credentials
from chargers.models import (
    Charger,
    RegistrationStatus,
)
from cpms import hashing
from cpms.models import Tenant


def charger_register_pending(*, tenant: Tenant, identity: str, password: str) -> Charger:
    """An unknown charger with the tenant's onboarding password, waiting for approval.

    It keeps the onboarding password until an operator sets its own.
    """
    charger, _ = Charger.objects.get_or_create(
        identity=identity,
        defaults={
            "registration_status": RegistrationStatus.PENDING,
            "password_hash": hashing.make_hash(password),
            "password_set_at": timezone.now(),
        },
    )
    return charger


def charger_set_password(*, charger: Charger, password: str | None = None) -> str:
    """Set or rotate a charger's password; returns it (shown to the operator once)."""
    password = password or credentials.generate()
    problem = credentials.validate(password)
    if problem:
        raise ValueError(problem)
    charger_password_accepted(charger_id=charger.pk, password=password)
    return password


def tenant_set_onboarding_password(*, tenant: Tenant, password: str | None) -> str | None:
    if password is None:
        Tenant.objects.filter(pk=tenant.pk).update(onboarding_password_hash="")
        return None
    problem = credentials.validate(password)
    if problem:
        raise ValueError(problem)
    Tenant.objects.filter(pk=tenant.pk).update(onboarding_password_hash=hashing.make_hash(password))
    return password


def charger_set_registration(*, charger: Charger, status: str) -> None:
    """Approve (Accepted) or reject a charger; the socket's consumer picks it up at once."""
    Charger.objects.filter(pk=charger.pk).update(registration_status=status)
    charger.registration_status = status
    from chargers.commands import notify_consumer

    notify_consumer(charger, {"type": "charger.changed"})


def charger_password_accepted(*, charger_id: int, password: str) -> None:
    """The charger accepted `password` (a command changed it): it authenticates with it from its
    next connection, so the stored hash follows at once."""
    Charger.objects.filter(pk=charger_id).update(
        password_hash=hashing.make_hash(password), password_set_at=timezone.now()
    )
