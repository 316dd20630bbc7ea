"""The tenant's Plug & Charge settings: the contract-certificate provider (the built-in test
V2G PKI or a remote one by URL and credentials, its secret sealed), OCSP, extra trusted V2G
roots and the group of the eMAID tokens the built-in PKI creates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from chargers.certificates import crypto
from chargers.certificates.models import OcspMode, PlugAndChargeSettings, ProviderKind
from chargers.models import IdToken
from cpms.tenancy import scoping

# The charger waits about 30 s for Get15118EVCertificate's answer: the provider gets less.
MAX_REMOTE_TIMEOUT = 25
UNSET: Any = object()


def _context(tenant_id: int) -> bytes:
    return f"tenant:{tenant_id}:pnc-provider".encode()


def pnc_settings() -> PlugAndChargeSettings:
    """The tenant's settings (the defaults, unsaved, until an admin changes them)."""
    return (
        PlugAndChargeSettings.objects.select_related("token_group").first()
        or PlugAndChargeSettings()
    )


def remote_secret(current: PlugAndChargeSettings) -> str:
    """The remote provider's secret, opened for a request (never shown)."""
    return crypto.open_text(
        current.remote_secret_sealed,
        secret=settings.CERTIFICATE_KEY_SECRET,
        context=_context(current.tenant_id),
    )


def trusted_roots(current: PlugAndChargeSettings) -> list[crypto.x509.Certificate]:
    if not current.trusted_roots_pem.strip():
        return []
    return crypto.load_certificates(current.trusted_roots_pem)


@transaction.atomic
def pnc_settings_set(
    *,
    provider: str | None = None,
    remote_url: str | None = None,
    remote_username: str | None = None,
    remote_secret: str | None = None,
    remote_timeout: int | None = None,
    ocsp_mode: str | None = None,
    trusted_roots_pem: str | None = None,
    token_group: IdToken | None = UNSET,
) -> PlugAndChargeSettings:
    """Change the fields given; `remote_secret` '' keeps the stored one (it is never shown,
    so a form sent back unchanged must not erase it)."""
    tenant = scoping.current_tenant()
    if tenant is None:
        raise scoping.TenantScopeError("Plug & Charge settings are a tenant's")
    current = PlugAndChargeSettings.objects.select_for_update().first() or PlugAndChargeSettings()
    errors: dict[str, list[str]] = {}
    if provider is not None:
        if provider not in ProviderKind.values:
            errors["provider"] = [_("Unknown provider.")]
        current.provider = provider
    if ocsp_mode is not None:
        if ocsp_mode not in OcspMode.values:
            errors["ocsp_mode"] = [_("Unknown OCSP mode.")]
        current.ocsp_mode = ocsp_mode
    if remote_url is not None:
        current.remote_url = remote_url.strip()
    if remote_username is not None:
        current.remote_username = remote_username.strip()
    if remote_secret:
        current.remote_secret_sealed = crypto.seal_text(
            remote_secret, secret=settings.CERTIFICATE_KEY_SECRET, context=_context(tenant.pk)
        )
    if remote_timeout is not None:
        if not 1 <= remote_timeout <= MAX_REMOTE_TIMEOUT:
            errors["remote_timeout"] = [
                _("From 1 to %(most)s seconds.") % {"most": MAX_REMOTE_TIMEOUT}
            ]
        current.remote_timeout = remote_timeout
    if trusted_roots_pem is not None:
        current.trusted_roots_pem = trusted_roots_pem.strip()
        try:
            trusted_roots(current)
        except crypto.CertificateError:
            errors["trusted_roots_pem"] = [_("Not PEM certificates.")]
    if token_group is not UNSET:
        current.token_group = token_group
    if current.provider == ProviderKind.REMOTE and not current.remote_url:
        errors.setdefault("remote_url", []).append(_("A remote provider needs its URL."))
    if errors:
        raise ValidationError(errors)
    current.save()
    return current
