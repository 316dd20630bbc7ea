"""Where each door resolves its tenant and opens the data layer's scope.

Doors: a web request (the `tenant_slug` in the URL, or the staff selection in the session for
tenant-less pages such as the admin), an API request (the tenant of its key; for a platform
staff key the `X-Tenant` slug; for a browser session the `X-Tenant` slug checked against the
user's memberships), an OCPP connection (the
slug in the WebSocket URL), a Celery task (its `tenant_id` keyword). A stranger always gets the
same 404 as a missing tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import celery
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase

from cpms.audit import context as audit_context
from cpms.models import ApiKey, Membership, PlatformApiKey, Role, Tenant, User
from cpms.tenancy import scoping

SESSION_KEY = "tenant_id"


class TenantRequest(HttpRequest):
    """A request as the web door leaves it: `TenantMiddleware` sets the tenant it acts for and
    the user's membership there (both None on tenant-less pages; the membership is also None
    for platform staff)."""

    tenant: Tenant | None
    membership: Membership | None


def memberships_of(user: User | AnonymousUser) -> list[Membership]:
    """Every tenant a user belongs to (invitations they have not accepted give nothing), for
    the switcher and the home redirect."""
    if not user.is_authenticated:
        return []
    with scoping.unscoped():
        return list(
            Membership.objects.filter(user=user, tenant__is_active=True, accepted_at__isnull=False)
            .select_related("tenant", "site_owner")
            .order_by("tenant__name")
        )


def invitations_of(user: User | AnonymousUser) -> list[Membership]:
    """The invitations a user has not answered yet."""
    if not user.is_authenticated:
        return []
    with scoping.unscoped():
        return list(
            Membership.objects.filter(user=user, tenant__is_active=True, accepted_at__isnull=True)
            .select_related("tenant", "site_owner")
            .order_by("tenant__name")
        )


def resolve_web_tenant(user: User | AnonymousUser, slug: str) -> tuple[Tenant, Membership | None]:
    """The tenant named in a URL and the user's membership; Http404 for anyone else.

    Superusers are platform staff: they reach every tenant with no membership.
    """
    if not user.is_authenticated:
        raise Http404
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
    if tenant is None:
        raise Http404
    if user.is_superuser:
        return tenant, None
    with scoping.unscoped():
        membership = (
            Membership.objects.filter(user=user, tenant=tenant, accepted_at__isnull=False)
            .select_related("site_owner")
            .first()
        )
    if membership is None:
        raise Http404
    return tenant, membership


def _session_scope(request: TenantRequest) -> scoping.ScopeValue:
    """The scope of tenant-less pages (home, admin, platform views)."""
    user = request.user
    if not user.is_authenticated:
        return None
    selected = request.session.get(SESSION_KEY)
    if user.is_superuser:
        tenant = Tenant.objects.filter(pk=selected).first() if selected else None
        request.tenant = tenant
        return tenant or scoping.ALL_TENANTS
    if not user.is_staff:
        return None
    # Staff who are not superusers administer their own tenant in the admin, nothing else.
    admin_memberships = [m for m in memberships_of(user) if m.role == Role.ADMIN]
    chosen = next((m for m in admin_memberships if m.tenant_id == selected), None)
    chosen = chosen or (admin_memberships[0] if admin_memberships else None)
    if chosen is None:
        return None
    request.tenant, request.membership = chosen.tenant, chosen
    return chosen.tenant


class TenantMiddleware:
    """The web door. Every request runs inside exactly one scope, reset when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: TenantRequest) -> HttpResponseBase:
        request.tenant = None
        request.membership = None
        token = scoping.activate(_session_scope(request))
        try:
            return self.get_response(request)
        finally:
            scoping.deactivate(token)

    def process_view(
        self,
        request: TenantRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        # Views under /t/<tenant_slug>/ receive the tenant on the request, not as an argument.
        slug = view_kwargs.pop("tenant_slug", None)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            # The same answer for every slug, existing or not.
            return redirect_to_login(request.get_full_path())
        tenant, membership = resolve_web_tenant(request.user, slug)
        request.tenant, request.membership = tenant, membership
        if request.user.is_superuser:
            request.session[SESSION_KEY] = tenant.pk
        # Replaces the session scope; __call__'s reset restores the state before both.
        scoping.activate(tenant)
        return None


class TenantHeaderError(ValueError):
    """The `X-Tenant` header is missing where it is needed, or present where it may not be."""


def api_key_for(raw: str) -> ApiKey | PlatformApiKey | None:
    """The API door, part one: the usable key a request presents, or None.

    A tenant key comes with its (active) tenant; a platform key names no tenant of its own and
    works only while the person who created it is still an active superuser: the key is their
    staff access, and a demoted, deactivated or deleted owner takes it with them.
    """
    from cpms.services import apikeys

    found = apikeys.split(raw)
    if found is None:
        return None
    model, prefix = found
    with scoping.unscoped():
        key: ApiKey | PlatformApiKey | None
        if model is ApiKey:
            key = ApiKey.objects.filter(prefix=prefix).select_related("tenant").first()
        else:
            key = PlatformApiKey.objects.filter(prefix=prefix).select_related("created_by").first()
        if key is None or not apikeys.verify(raw, key):
            return None
        if not key.is_usable():
            return None
        if isinstance(key, ApiKey) and not key.tenant.is_active:
            return None
        if isinstance(key, PlatformApiKey) and not _is_platform_staff(key.created_by):
            return None
        apikeys.api_key_note_use(key)
    return key


def _is_platform_staff(user: User | None) -> bool:
    return user is not None and user.is_active and user.is_superuser


def api_tenant_for(key: ApiKey | PlatformApiKey, slug: str | None) -> Tenant:
    """The API door, part two: the tenant a key acts for. This is the only place a key turns
    into a tenant; the API's base view opens the scope.

    A tenant key acts for its own tenant, always: an `X-Tenant` naming any other slug is
    refused (TenantHeaderError, the same words whether that tenant exists or not), so a client
    that believes it switched tenant learns at once that it did not. A platform key must name
    the tenant (TenantHeaderError when it does not); an unknown or inactive one is Http404.
    """
    if isinstance(key, ApiKey):
        if slug and slug != key.tenant.slug:
            raise TenantHeaderError(
                "A tenant's API key acts for its own tenant only; "
                "leave X-Tenant out or name the key's tenant."
            )
        return key.tenant
    if not slug:
        raise TenantHeaderError("A platform key names its tenant with the X-Tenant header (slug).")
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
    if tenant is None:
        raise Http404
    return tenant


def tenant_for_ocpp(slug: str) -> Tenant | None:
    """The OCPP door: the active tenant named in a charger's WebSocket URL."""
    return Tenant.objects.filter(slug=slug, is_active=True).first()


# Celery ships no types: its Task is Any to mypy.
class TenantTask(celery.Task):  # type: ignore[misc]
    """The Celery door: a task runs in the scope of its `tenant_id` keyword.

    Tasks that work across tenants declare `platform = True` and run unscoped; any other task
    queued without a tenant_id fails instead of touching every tenant's rows.
    """

    platform = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # A task acts for nobody: what it writes on its own is not a person's doing, whatever
        # context queued it (an eager task runs inside the request that queued it).
        with audit_context.acting(None):
            return self._run_in_scope(*args, **kwargs)

    def _run_in_scope(self, *args: Any, **kwargs: Any) -> Any:
        if self.platform:
            with scoping.unscoped():
                return super().__call__(*args, **kwargs)
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise scoping.TenantScopeError(f"task {self.name} queued without tenant_id")
        tenant = Tenant.objects.get(pk=tenant_id)
        with scoping.scope(tenant):
            return super().__call__(*args, **kwargs)
