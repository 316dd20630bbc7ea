"""System checks of the certificates app (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

TEST_PKI_IN_PRODUCTION = checks.Warning(
    "The built-in test V2G PKI is on (PNC_TEST_PKI) with DEBUG off: its V2G root and "
    "sub-CAs are made here, trusted by no real vehicle, and its keys are only as safe as "
    "this server.",
    hint="Set PNC_TEST_PKI=false in production and configure each tenant's real V2G PKI "
    "provider (Plug & Charge settings).",
    id="certificates.W001",
)


def test_pki_in_production() -> bool:
    return bool(settings.PNC_TEST_PKI and not settings.DEBUG)


@checks.register(checks.Tags.security, deploy=True)
def check_test_pki(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [TEST_PKI_IN_PRODUCTION] if test_pki_in_production() else []
