"""Reads of the certificates domain for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from chargers.certificates.models import (
    CertificateAuthority,
    CertificateOperation,
    CertificateUse,
    ContractCertificate,
    EvCertificateRequest,
    InstalledCertificate,
    IssuedCertificate,
    IssuedState,
    PlugAndChargeSettings,
    SigningRequest,
    V2gAuthority,
)
from chargers.certificates.services.pnc_settings import pnc_settings
from chargers.certificates.services.settings import certificate_settings
from chargers.models import Charger

# Certificates that count as the charger's own (sent, or installed by it).
CURRENT = (IssuedState.SENT, IssuedState.INSTALLED)


def active_authority() -> CertificateAuthority | None:
    return CertificateAuthority.objects.filter(active=True).first()


@dataclass(frozen=True)
class ChargerCertificates:
    """What the charger page shows of a charger's certificates."""

    issued: list[IssuedCertificate]
    requests: list[SigningRequest]
    installed: list[InstalledCertificate]
    operations: list[CertificateOperation]
    current: IssuedCertificate | None
    current_v2g: IssuedCertificate | None
    expiring: bool
    expired: bool


def charger_certificates(charger: Charger) -> ChargerCertificates:
    now = timezone.now()
    issued = list(IssuedCertificate.objects.filter(charger=charger)[:10])
    installed = [c for c in issued if c.state == IssuedState.INSTALLED]
    current = next((c for c in installed if c.use == CertificateUse.CHARGING_STATION), None)
    window = timedelta(days=certificate_settings().renew_days)
    return ChargerCertificates(
        issued=issued,
        requests=list(SigningRequest.objects.filter(charger=charger)[:5]),
        installed=list(InstalledCertificate.objects.filter(charger=charger)),
        operations=list(CertificateOperation.objects.filter(charger=charger)[:10]),
        current=current,
        current_v2g=next((c for c in installed if c.use == CertificateUse.V2G), None),
        expired=current is not None and current.not_after <= now,
        expiring=current is not None and now < current.not_after <= now + window,
    )


def expiring_certificates() -> tuple[QuerySet[IssuedCertificate], QuerySet[IssuedCertificate]]:
    """Installed certificates that are the newest of their charger: (ending within the
    tenant's renewal window, already ended)."""
    now = timezone.now()
    window = timedelta(days=certificate_settings().renew_days)
    installed = IssuedCertificate.objects.filter(state=IssuedState.INSTALLED).select_related(
        "charger"
    )
    return (
        installed.filter(not_after__gt=now, not_after__lte=now + window),
        installed.filter(not_after__lte=now),
    )


def pinned_fingerprints(charger: Charger) -> set[str] | None:
    """Profile 3 with pinning on: the fingerprints of the certificates issued to the charger
    that are still valid (None: the tenant does not pin)."""
    if not certificate_settings().pin_issued:
        return None
    now = timezone.now()
    return set(
        IssuedCertificate.objects.filter(
            charger=charger,
            use=CertificateUse.CHARGING_STATION,
            state__in=CURRENT,
            not_before__lte=now,
            not_after__gt=now,
        ).values_list("fingerprint", flat=True)
    )


def v2g_authority() -> V2gAuthority | None:
    return V2gAuthority.objects.first()


@dataclass(frozen=True)
class PlugAndCharge:
    """What the certificates overview shows of Plug & Charge."""

    settings: PlugAndChargeSettings
    authority: V2gAuthority | None
    contracts: list[ContractCertificate]
    requests: list[EvCertificateRequest]


def plug_and_charge(*, limit: int = 25) -> PlugAndCharge:
    return PlugAndCharge(
        settings=pnc_settings(),
        authority=v2g_authority(),
        contracts=list(ContractCertificate.objects.select_related("id_token")[:limit]),
        requests=list(EvCertificateRequest.objects.select_related("charger")[:10]),
    )
