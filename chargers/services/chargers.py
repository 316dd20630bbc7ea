"""Writes of chargers as operators manage them: registration, placement, credentials, removal.

A charger's row is also written by its socket (connection state, what it reports), so these
functions update only the columns they own, never the whole row: a dashboard edit saved while
the charger connects must not put back a stale `is_online` or `channel_name`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from chargers import credentials
from chargers import tags as charger_tags
from chargers.models import Charger, RegistrationStatus, SecurityProfile, validate_identity
from cpms import hashing
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import Site, Tenant


class ChargerInUse(Exception):
    """The charger has sessions: it is kept for their history."""


@dataclass(frozen=True)
class NewCharger:
    charger: Charger
    password: str  # shown to the operator once and never stored


def _check_password(password: str) -> None:
    problem = credentials.validate(password)
    if problem:
        raise ValidationError({"password": [problem]})


def _check_tags(values: Sequence[str]) -> list[str]:
    try:
        return charger_tags.clean_tags(values)
    except ValidationError as error:
        raise ValidationError({"tags": error.messages}) from None


def _check_fingerprint(value: str) -> str:
    try:
        return credentials.normalize_fingerprint(value)
    except ValueError as error:
        raise ValidationError({"certificate_fingerprint": [str(error)]}) from None


@transaction.atomic
def charger_create(
    *,
    identity: str,
    site: Site | None = None,
    password: str | None = None,
    security_profile: int = SecurityProfile.PASSWORD,
    certificate_fingerprint: str = "",
    registration_status: str = RegistrationStatus.ACCEPTED,
    tags: Sequence[str] = (),
) -> NewCharger:
    """Register a charger the tenant expects, before it first connects.

    Raises ValidationError naming the field: an id that is not a charge point id, an id the
    tenant has already (case-insensitively), a password, fingerprint or tag that cannot be used.
    """
    identity = identity.strip()
    try:
        validate_identity(identity)
    except ValidationError as error:
        raise ValidationError({"identity": error.messages}) from None
    if Charger.objects.filter(identity__iexact=identity).exists():
        raise ValidationError({"identity": [_("A charger with this charge point id exists.")]})
    if security_profile not in SecurityProfile.values:
        raise ValidationError(
            {
                "security_profile": [
                    _("Choose one of %(choices)s.") % {"choices": SecurityProfile.values}
                ]
            }
        )
    password = password or credentials.generate()
    _check_password(password)
    charger = Charger.objects.create(
        identity=identity,
        site=site,
        security_profile=security_profile,
        certificate_fingerprint=_check_fingerprint(certificate_fingerprint),
        registration_status=registration_status,
        tags=_check_tags(tags),
        password_hash=hashing.make_hash(password),
        password_set_at=timezone.now(),
    )
    audit.created(charger, ObjectType.CHARGER)
    return NewCharger(charger=charger, password=password)


_UNCHANGED: Any = object()


def charger_update(
    *,
    charger: Charger,
    site: Site | None = _UNCHANGED,
    security_profile: int = _UNCHANGED,
    certificate_fingerprint: str = _UNCHANGED,
    tags: Sequence[str] = _UNCHANGED,
) -> Charger:
    """Move a charger to another site (None: no site), set its tags (the whole list) or change
    what it must present on its next connection (an open socket stays). Only the fields given
    change; a bad value raises ValidationError naming its field and changes nothing."""
    changes: dict[str, Any] = {}
    if site is not _UNCHANGED:
        changes["site"] = site
    if security_profile is not _UNCHANGED:
        if security_profile not in SecurityProfile.values:
            raise ValidationError(
                {
                    "security_profile": [
                        _("Choose one of %(choices)s.") % {"choices": SecurityProfile.values}
                    ]
                }
            )
        changes["security_profile"] = security_profile
    if certificate_fingerprint is not _UNCHANGED:
        changes["certificate_fingerprint"] = _check_fingerprint(certificate_fingerprint)
    if tags is not _UNCHANGED:
        changes["tags"] = _check_tags(tags)
    if changes:
        before = audit.snapshot(charger, changes)
        with transaction.atomic():
            Charger.objects.filter(pk=charger.pk).update(**changes)
            for field, value in changes.items():
                setattr(charger, field, value)
            audit.changed(charger, ObjectType.CHARGER, before=before)
    return charger


def charger_delete(*, charger: Charger) -> None:
    """Remove a charger that never had a session; raises ChargerInUse otherwise."""
    try:
        with transaction.atomic():
            audit.deleted(charger, ObjectType.CHARGER)
            charger.delete()
    except ProtectedError:
        raise ChargerInUse("The charger has sessions; keep it for their history.") from None


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
    """Set or rotate a charger's password; returns it (shown to the operator once). Raises
    ValidationError naming `password` when a chosen one cannot be used."""
    chosen = bool(password)
    password = password or credentials.generate()
    _check_password(password)
    with transaction.atomic():
        charger_password_accepted(charger_id=charger.pk, password=password)
        audit.record(
            action=Verb.PASSWORD,
            object_type=ObjectType.CHARGER_CREDENTIALS,
            target=charger,
            changes={
                "password": {"before": audit.MASK, "after": audit.MASK},
                "chosen_by": {"before": None, "after": "person" if chosen else "generated"},
            },
        )
    return password


def charger_password_accepted(*, charger_id: int, password: str) -> None:
    """The charger accepted `password` (a command changed it): it authenticates with it from its
    next connection, so the stored hash follows at once."""
    Charger.objects.filter(pk=charger_id).update(
        password_hash=hashing.make_hash(password), password_set_at=timezone.now()
    )


def charger_set_registration(*, charger: Charger, status: str) -> None:
    """Approve (Accepted) or reject a charger; the socket's consumer picks it up at once."""
    if status not in RegistrationStatus.values:
        raise ValidationError(
            {"status": [(_("Choose one of %(choices)s.") % {"choices": RegistrationStatus.values})]}
        )
    before = audit.snapshot(charger, ["registration_status"])
    with transaction.atomic():
        Charger.objects.filter(pk=charger.pk).update(registration_status=status)
        charger.registration_status = status
        verb = Verb.UPDATE
        if status == RegistrationStatus.ACCEPTED:
            verb = Verb.APPROVE
        elif status == RegistrationStatus.REJECTED:
            verb = Verb.REJECT
        audit.changed(charger, ObjectType.CHARGER, before=before, action=verb, always=True)
    from chargers.commands import notify_consumer

    notify_consumer(charger, {"type": "charger.changed"})
