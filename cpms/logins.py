"""What the login throttle (django-axes, configured in settings) keys on."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, which cpms.proxies sets from a trusted proxy only
    (django-ipware's guesses from headers would believe anyone)."""
    return request.META.get("REMOTE_ADDR", "")


def login_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a login names, as the login finds it: emails match whatever their case,
    so case variants of one address count as one account."""
    name = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(name).strip().lower()
