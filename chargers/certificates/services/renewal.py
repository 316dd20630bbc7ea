"""Rotating a charger's certificate: asking it for a new key and CSR (2.0.1 TriggerMessage,
1.6 ExtendedTriggerMessage) at an operator's request, or when its certificate nears its end."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from chargers.certificates.models import IssuedCertificate, IssuedState
from chargers.certificates.services.settings import certificate_settings
from chargers.models import Charger, Command
from chargers.ocpp import builders
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import User

SOURCE = "certificates"
# Who asked a charger for a new certificate because its own nears its end.
RENEWAL_SOURCE = "certificate-renewal"
# A charger asked for a new certificate is not asked again for this long.
RETRY_AFTER = timedelta(hours=20)


def certificate_rotate(
    *, charger: Charger, requested_by: User | None = None, source: str = SOURCE
) -> Command:
    """Ask the charger for a new certificate now; it answers with a SignCertificate, which the
    tenant's CA signs. Returns the command (sent, not awaited)."""
    built = builders.renew_certificate(charger)
    audit.record(
        action=Verb.ROTATE,
        object_type=ObjectType.CERTIFICATE,
        object_id=charger.pk,
        label=charger.identity,
    )
    return builders.perform(charger, built, wait=False, requested_by=requested_by, source=source)


def chargers_due_for_renewal() -> list[Charger]:
    """Chargers whose newest certificate is installed and ends within the tenant's window, and
    which were not asked for a new one lately."""
    now = timezone.now()
    window = timedelta(days=certificate_settings().renew_days)
    newer = IssuedCertificate.objects.filter(
        charger=OuterRef("charger"), created_at__gt=OuterRef("created_at")
    )
    due = (
        IssuedCertificate.objects.filter(state=IssuedState.INSTALLED, not_after__lte=now + window)
        .annotate(newer=Exists(newer))
        .filter(newer=False)
        .values_list("charger_id", flat=True)
    )
    asked_lately = Command.objects.filter(
        charger=OuterRef("pk"), source=RENEWAL_SOURCE, created_at__gte=now - RETRY_AFTER
    )
    return list(
        Charger.objects.filter(pk__in=list(due))
        .annotate(asked=Exists(asked_lately))
        .filter(asked=False)
    )


def certificates_renew_due() -> list[Command]:
    """The beat job's work in one tenant: rotate every charger due for renewal."""
    return [
        certificate_rotate(charger=charger, source=RENEWAL_SOURCE)
        for charger in chargers_due_for_renewal()
    ]
