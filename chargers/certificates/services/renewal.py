"""Rotating a charger's certificate: asking it for a new key and CSR (2.0.1 TriggerMessage,
1.6 ExtendedTriggerMessage) at an operator's request, or when its certificate nears its end."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from chargers.certificates.models import CertificateUse, IssuedCertificate, IssuedState
from chargers.certificates.services.settings import certificate_settings
from chargers.models import Charger, Command
from chargers.ocpp import builders, readers
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import User

SOURCE = "certificates"
# Who asked a charger for a new certificate because its own nears its end.
RENEWAL_SOURCE = "certificate-renewal"
# A charger asked for a new certificate is not asked again for this long.
RETRY_AFTER = timedelta(hours=20)


def certificate_rotate(
    *,
    charger: Charger,
    use: str = CertificateUse.CHARGING_STATION,
    requested_by: User | None = None,
    source: str = SOURCE,
) -> Command:
    """Ask the charger for a new certificate of `use` now; it answers with a SignCertificate,
    which the tenant's CA (or, for V2G, its V2G PKI) signs. Returns the command (sent, not
    awaited)."""
    built = builders.renew_certificate(charger, use=use)
    audit.record(
        action=Verb.ROTATE,
        object_type=ObjectType.CERTIFICATE,
        object_id=charger.pk,
        label=charger.identity,
    )
    return builders.perform(charger, built, wait=False, requested_by=requested_by, source=source)


def chargers_due_for_renewal() -> list[tuple[Charger, str]]:
    """(charger, use) where the charger's newest certificate of that use is installed and ends
    within the tenant's window, and the charger was not asked for a new one lately."""
    now = timezone.now()
    window = timedelta(days=certificate_settings().renew_days)
    newer = IssuedCertificate.objects.filter(
        charger=OuterRef("charger"), use=OuterRef("use"), created_at__gt=OuterRef("created_at")
    )
    due = set(
        IssuedCertificate.objects.filter(state=IssuedState.INSTALLED, not_after__lte=now + window)
        .annotate(newer=Exists(newer))
        .filter(newer=False)
        .values_list("charger_id", "use")
    )
    asked_lately = set(
        Command.objects.filter(
            charger_id__in={charger_id for charger_id, _ in due},
            source=RENEWAL_SOURCE,
            created_at__gte=now - RETRY_AFTER,
        ).values_list("charger_id", "payload")
    )
    asked = {(charger_id, readers.renewal_use(payload)) for charger_id, payload in asked_lately}
    chargers = Charger.objects.in_bulk({charger_id for charger_id, _ in due})
    return sorted(
        ((chargers[charger_id], use) for charger_id, use in due if (charger_id, use) not in asked),
        key=lambda pair: (pair[0].pk, pair[1]),
    )


def certificates_renew_due() -> list[Command]:
    """The beat job's work in one tenant: rotate every certificate due for renewal."""
    return [
        certificate_rotate(charger=charger, use=use, source=RENEWAL_SOURCE)
        for charger, use in chargers_due_for_renewal()
    ]
