"""Who is acting: set once per door, read by `cpms.audit.services.record`.

The web door (`AuditMiddleware`) names the logged-in person; the API's base view names the key
(or the browser session's person); management commands that act for someone use `acting()`.
Charger sockets and Celery tasks act for nobody (the task door clears the actor), so what a
charger reports or a job does on its own never reaches the log: a person's action is recorded
by the service the request calls, before any task is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponseBase

if TYPE_CHECKING:
    from cpms.models import ApiKey, PlatformApiKey, User


@dataclass(frozen=True)
class Actor:
    kind: str  # ActorKind
    label: str
    door: str  # Door
    role: str = ""
    user_id: int | None = None
    key_id: int | None = None
    ip_address: str | None = None
    user_agent: str = ""


# An Actor, a callable resolving one late (the web door: the membership is known only once the
# view is resolved), or None: nobody, nothing is recorded.
Resolver = Callable[[], Actor | None]
_current: ContextVar[Actor | Resolver | None] = ContextVar("cpms_audit_actor", default=None)


def current_actor() -> Actor | None:
    value = _current.get()
    if value is None or isinstance(value, Actor):
        return value
    return value()


def activate(value: Actor | Resolver | None) -> Token[Actor | Resolver | None]:
    return _current.set(value)


def deactivate(token: Token[Actor | Resolver | None]) -> None:
    _current.reset(token)


@contextmanager
def acting(actor: Actor | None) -> Iterator[None]:
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def _where(request: HttpRequest) -> dict[str, Any]:
    # REMOTE_ADDR is the client's as cpms.proxies.TrustedProxyMiddleware left it.
    return {
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


def person(user: User, *, role: str, door: str, request: HttpRequest | None = None) -> Actor:
    where = _where(request) if request is not None else {}
    return Actor(kind="user", label=user.email, door=door, role=role, user_id=user.pk, **where)


def key_holder(key: ApiKey | PlatformApiKey, *, request: HttpRequest) -> Actor:
    from cpms.models import ApiKey

    kind = "api_key" if isinstance(key, ApiKey) else "platform_key"
    return Actor(
        kind=kind,
        label=f"{key.name} ({key.prefix})",
        door="api",
        role=key.member_role,
        key_id=key.pk,
        **_where(request),
    )


def web_actor(request: HttpRequest) -> Actor | None:
    """The person behind a dashboard request, with their role in the tenant it acts for."""
    user = request.user
    if not user.is_authenticated:
        return None
    membership = getattr(request, "membership", None)
    role = "platform" if user.is_superuser else (membership.role if membership else "")
    return person(user, role=role, door="web", request=request)


class AuditMiddleware:
    """The web door: every request acts for its logged-in person (resolved when something is
    recorded), reset when it ends. The API's base view replaces it for API requests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _current.set(lambda: web_actor(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
