"""The tenant's certificate policy: renewal window and profile-3 pinning."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from chargers.certificates.models import CertificateSettings
from cpms.audit import services as audit
from cpms.audit.models import ObjectType

MAX_RENEW_DAYS = 365


def certificate_settings() -> CertificateSettings:
    """The tenant's settings (the defaults, unsaved, until an admin changes them)."""
    return CertificateSettings.objects.first() or CertificateSettings()


@transaction.atomic
def certificate_settings_set(
    *, renew_days: int | None = None, pin_issued: bool | None = None
) -> CertificateSettings:
    current = CertificateSettings.objects.select_for_update().first() or CertificateSettings()
    before = audit.snapshot(current, ["renew_days", "pin_issued"])
    if renew_days is not None:
        if not 1 <= renew_days <= MAX_RENEW_DAYS:
            raise ValidationError({"renew_days": [f"From 1 to {MAX_RENEW_DAYS} days."]})
        current.renew_days = renew_days
    if pin_issued is not None:
        current.pin_issued = pin_issued
    current.save()
    audit.changed(current, ObjectType.CERTIFICATE_SETTINGS, before=before)
    return current
