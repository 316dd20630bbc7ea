"""Reverse proxies: what the CPMS believes of the headers a proxy adds.

A TLS proxy in front of daphne tells who the client is (X-Forwarded-For), whether it spoke
HTTPS (X-Forwarded-Proto) and, for OCPP security profile 3, which certificate it showed. Anyone
who reaches daphne directly can send the same headers, so they count only from the addresses in
`TRUSTED_PROXIES`, checked against the socket's real peer: daphne runs without its own
`--proxy-headers`, which believes X-Forwarded-For from anyone.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.deprecation import MiddlewareMixin

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from None


def from_trusted_proxy(peer: str) -> bool:
    """Whether the socket's peer is one of the configured proxies."""
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def forwarded_for(value: str) -> str:
    """The address the proxy saw, from an X-Forwarded-For value: its last entry (earlier ones
    are the client's own claims)."""
    return value.rpartition(",")[2].strip()[:64]


class TrustedProxyMiddleware(MiddlewareMixin):
    """First in the chain: from a trusted proxy, the client's address replaces the proxy's and
    its X-Forwarded-Proto stays (SECURE_PROXY_SSL_HEADER reads it); from anyone else both
    headers are dropped, so a direct client cannot claim HTTPS or another address."""

    def process_request(self, request: HttpRequest) -> None:
        meta = request.META
        if from_trusted_proxy(meta.get("REMOTE_ADDR", "")):
            client = forwarded_for(meta.get("HTTP_X_FORWARDED_FOR", ""))
            if client:
                meta["REMOTE_ADDR"] = client
        else:
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
            meta.pop("HTTP_X_FORWARDED_FOR", None)


# A malformed TRUSTED_PROXIES stops a process at start, not at the first request.
trusted_networks(tuple(settings.TRUSTED_PROXIES))
