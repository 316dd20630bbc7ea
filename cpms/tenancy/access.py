"""Role access: who may see and do what in a tenant, in one place for every door.

Operator roles rank viewer < operator < admin (`cpms.models.ROLE_RANK`); the portal role is
outside that order and reaches only the site-owner portal. Platform staff (superusers) act as
admins of any tenant they open.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBase

from cpms.models import Membership, Role, User
from cpms.tenancy.doors import TenantRequest

_P = ParamSpec("_P")
_R = TypeVar("_R", bound=HttpResponseBase)
_R_co = TypeVar("_R_co", bound=HttpResponseBase, covariant=True)

# What each change to the tenant itself needs; the charger domain has its own table
# (`chargers.access`). Pages and the API both read these.
MANAGE_SITES = Role.ADMIN
MANAGE_MEMBERS = Role.ADMIN
MANAGE_API_KEYS = Role.ADMIN
MANAGE_WEBHOOKS = Role.ADMIN
MANAGE_TENANT = Role.ADMIN


class GuardedView(Protocol[_P, _R_co]):
    """A view behind `operator_view`, which records the roles it asks for."""

    read_role: str
    write_role: str

    def __call__(self, request: TenantRequest, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...


def effective_role(request: TenantRequest) -> str | None:
    if request.tenant is None:
        return None
    if request.user.is_superuser:
        return Role.ADMIN
    return request.membership.role if request.membership else None


def role_at_least(request: TenantRequest, role: str) -> bool:
    if request.user.is_superuser and request.tenant is not None:
        return True
    return bool(request.membership and request.membership.allows(role))


def operator_view(
    read: str = Role.VIEWER, write: str = Role.OPERATOR
) -> Callable[[Callable[Concatenate[TenantRequest, _P], _R]], GuardedView[_P, _R]]:
    """Guard a dashboard view: role `read` to see it, role `write` to POST to it.

    Strangers were already turned away with a 404 by the middleware; members whose role is too
    weak (including portal members) get 403, since they know the tenant exists.
    """

    def decorator(view: Callable[Concatenate[TenantRequest, _P], _R]) -> GuardedView[_P, _R]:
        @wraps(view)
        def wrapped(request: TenantRequest, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            needed = read if request.method in ("GET", "HEAD", "OPTIONS") else write
            if not role_at_least(request, needed):
                raise PermissionDenied("Your role in this tenant does not allow this.")
            return view(request, *args, **kwargs)

        guarded = cast(GuardedView[_P, _R], wrapped)
        guarded.read_role, guarded.write_role = read, write
        return guarded

    return decorator


def portal_view(
    view: Callable[Concatenate[TenantRequest, _P], _R],
) -> Callable[Concatenate[TenantRequest, _P], _R]:
    """Guard a site-owner portal view: only the tenant's portal members."""

    # `request` is positional-only, as Django passes it; mypy matches the wrapper to the
    # view's type only then.
    @wraps(view)
    def wrapped(request: TenantRequest, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        membership = request.membership
        if membership is None or membership.role != Role.PORTAL:
            raise PermissionDenied("The portal is for site owners.")
        return view(request, *args, **kwargs)

    return wrapped


def check_membership_change(
    *, actor: User | None, membership: Membership, role: str | None = None, removing: bool = False
) -> None:
    """An admin may not take away their own admin role, nor remove themselves: a slip must not
    lock a tenant's last admin out. Raises ValidationError naming the field at fault."""
    if actor is None or membership.user_id != actor.pk:
        return
    if removing:
        raise ValidationError({"id": ["You cannot remove yourself."]})
    if role is not None and role != Role.ADMIN and membership.role == Role.ADMIN:
        raise ValidationError({"role": ["You cannot remove your own admin role."]})
