"""The data layer's tenant scope.

Every tenant-owned model uses `TenantManager` as its default manager. Its querysets are
filtered to the tenant of the active scope; with no scope active they refuse to run, so a
forgotten filter is an error in development rather than a leak in production. A scope is
opened in exactly one place per door (see `cpms.tenancy`); platform code that must see every
tenant says so with `unscoped()`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeAlias, TypeVar, cast

from django.db import models
from django.db.models import sql

if TYPE_CHECKING:
    from cpms.models import Tenant


class AllTenants(enum.Enum):
    """The scope of platform work that sees every tenant (`unscoped()`)."""

    ALL = "all tenants"


ALL_TENANTS: Final = AllTenants.ALL
# What the active scope holds: a tenant, every tenant, or None when no scope is open.
ScopeValue: TypeAlias = "Tenant | AllTenants | None"
_current: ContextVar[ScopeValue] = ContextVar("cpms_tenant_scope", default=None)

# The rows of a TenantQuerySet are TenantOwned; bounding _M by that class, defined below, crashes
# mypy 1.19's semantic analysis with the django plugin, so the bound is Model.
_M = TypeVar("_M", bound=models.Model)


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried outside any tenant scope."""


def current_tenant() -> Tenant | None:
    value = _current.get()
    return None if isinstance(value, AllTenants) else value


def is_unscoped() -> bool:
    return _current.get() is ALL_TENANTS


@contextmanager
def scope(tenant: Tenant) -> Iterator[Tenant]:
    """Run the block with queries limited to `tenant`."""
    if tenant is None:
        raise TenantScopeError("scope() needs a tenant; use unscoped() for platform work")
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Run the block seeing every tenant: platform staff views, migrations, platform jobs."""
    token = _current.set(ALL_TENANTS)
    try:
        yield
    finally:
        _current.reset(token)


def each_tenant() -> Iterator[Tenant]:
    """Platform work tenant by tenant: yields every active tenant with its scope open while
    the caller works on it (`for tenant in each_tenant(): ...`)."""
    from cpms.models import Tenant

    for tenant in list(Tenant.objects.filter(is_active=True)):
        with scope(tenant):
            yield tenant


def activate(value: ScopeValue) -> Token[ScopeValue]:
    """Set the scope without a block (middleware); returns the token for `deactivate`."""
    return _current.set(value)


def deactivate(token: Token[ScopeValue]) -> None:
    _current.reset(token)


class UnscopedQuery(sql.Query):
    """The query of a tenant-owned table built outside any scope: it may be built (Django
    builds form fields at import time) but never run."""

    def get_compiler(self, *args: Any, **kwargs: Any) -> NoReturn:
        name = self.model.__name__ if self.model is not None else "A tenant-owned table"
        raise TenantScopeError(
            f"{name} queried without a tenant scope; "
            "open one with cpms.scoping.scope() or unscoped()"
        )


class TenantQuerySet(models.QuerySet[_M]):
    # update() and delete() switch the query class, which would drop the trap above.
    def _refuse_unscoped(self) -> None:
        if isinstance(self.query, UnscopedQuery):
            self.query.get_compiler()

    def update(self, **kwargs: Any) -> int:
        self._refuse_unscoped()
        return super().update(**kwargs)

    def _update(self, values: Any) -> Any:
        self._refuse_unscoped()
        # A private QuerySet method (update_or_create and save() go through it): django-stubs
        # leaves it out.
        return super()._update(values)  # type: ignore[misc]

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_unscoped()
        return super().delete()

    def _raw_delete(self, using: str | None) -> int:
        self._refuse_unscoped()
        return super()._raw_delete(using)

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        # bulk_create skips save(), which is where a new row gets its tenant.
        objs = list(objs)
        for obj in objs:
            row = cast(TenantOwned, obj)
            if row.tenant_id is None:
                tenant = current_tenant()
                if tenant is None:
                    raise TenantScopeError(f"{self.model.__name__} bulk-created without a tenant")
                row.tenant = tenant
        return super().bulk_create(objs, *args, **kwargs)


_TenantManagerBase = models.Manager.from_queryset(TenantQuerySet)


class TenantManager(_TenantManagerBase[_M]):
    # Set by Django's BaseManager; django-stubs leaves them out.
    _queryset_class: type[TenantQuerySet[_M]]
    _hints: dict[str, Any]

    def get_queryset(self) -> TenantQuerySet[_M]:
        value = _current.get()
        # What Manager.get_queryset() builds, with the trap query when no scope is open.
        query = UnscopedQuery(self.model) if value is None else None
        queryset = self._queryset_class(
            model=self.model, query=query, using=self._db, hints=self._hints
        )
        if value is None or value is ALL_TENANTS:
            return queryset
        return queryset.filter(tenant=value)


def log_tenant() -> models.ForeignKey[Tenant, Tenant]:
    """The tenant field of a log table (samples, frames, statuses): such rows are only read
    through their charger or session, whose indexes lead with it, so the tenant gets no index
    of its own that every insert would write. (Deleting a whole tenant scans these tables.)"""
    return models.ForeignKey(
        "cpms.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False
    )


class TenantOwned(models.Model):
    """Abstract base of every row that belongs to one tenant."""

    tenant = models.ForeignKey("cpms.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    # Following a foreign key (charger.site) uses Django's plain base manager, which is safe:
    # it only reaches rows that a row read in scope points at.

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_id is None:
            tenant = current_tenant()
            # A model whose tenant may be none (a refused handshake naming no known tenant)
            # says so with a nullable field; any other row needs one.
            if tenant is None and not self._meta.get_field("tenant").null:
                raise TenantScopeError(f"{type(self).__name__} saved without a tenant")
            if tenant is not None:
                self.tenant = tenant
        super().save(*args, **kwargs)
