"""Deployment checks of our own, beside Django's (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def https_through_a_trusted_proxy(app_configs, **kwargs):
    """HTTPS ends at the reverse proxy; unless the proxy is trusted, every request looks like
    plain HTTP and SECURE_SSL_REDIRECT sends it round in circles."""
    if settings.SECURE_SSL_REDIRECT and not settings.TRUSTED_PROXIES:
        return [
            Warning(
                "SECURE_SSL_REDIRECT is on but TRUSTED_PROXIES is empty: requests through the "
                "TLS proxy would all be redirected.",
                hint="Set TRUSTED_PROXIES to the proxy's addresses (deploy/README.md).",
                id="cpms.W001",
            )
        ]
    return []
