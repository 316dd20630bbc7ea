"""The data layer's tenant scope.

Every tenant-owned model uses `TenantManager` as its default manager. Its querysets are
filtered to the tenant of the active scope; with no scope active they refuse to run, so a
forgotten filter is an error in development rather than a leak in production. A scope is
opened in exactly one place per door (see `cpms.tenancy`); platform code that must see every
tenant says so with `unscoped()`.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import sql

if TYPE_CHECKING:
    from cpms.models import Tenant

ALL_TENANTS = object()
_current: ContextVar[Any] = ContextVar("cpms_tenant_scope", default=None)


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried outside any tenant scope."""


def current_tenant() -> Tenant | None:
    value = _current.get()
    return None if value is ALL_TENANTS else value


def is_unscoped() -> bool:
    return _current.get() is ALL_TENANTS


@contextmanager
def scope(tenant: Tenant):
    """Run the block with queries limited to `tenant`."""
    if tenant is None:
        raise TenantScopeError("scope() needs a tenant; use unscoped() for platform work")
    token = _current.set(tenant)
    try:
        yield tenant
    finally:
        _current.reset(token)


@contextmanager
def unscoped():
    """Run the block seeing every tenant: platform staff views, migrations, platform jobs."""
    token = _current.set(ALL_TENANTS)
    try:
        yield
    finally:
        _current.reset(token)


def each_tenant():
    """Platform work tenant by tenant: yields every active tenant with its scope open while
    the caller works on it (`for tenant in each_tenant(): ...`)."""
    from cpms.models import Tenant

    for tenant in list(Tenant.objects.filter(is_active=True)):
        with scope(tenant):
            yield tenant


def activate(value: Any):
    """Set the scope without a block (middleware); returns the token for `deactivate`."""
    return _current.set(value)


def deactivate(token) -> None:
    _current.reset(token)


class UnscopedQuery(sql.Query):
    """The query of a tenant-owned table built outside any scope: it may be built (Django
    builds form fields at import time) but never run."""

    def get_compiler(self, *args, **kwargs):
        raise TenantScopeError(
            f"{self.model.__name__} queried without a tenant scope; "
            "open one with cpms.scoping.scope() or unscoped()"
        )


class TenantQuerySet(models.QuerySet):
    # update() and delete() switch the query class, which would drop the trap above.
    def _refuse_unscoped(self):
        if isinstance(self.query, UnscopedQuery):
            self.query.get_compiler()

    def update(self, **kwargs):
        self._refuse_unscoped()
        return super().update(**kwargs)

    def _update(self, values):
        self._refuse_unscoped()
        return super()._update(values)

    def delete(self):
        self._refuse_unscoped()
        return super().delete()

    def _raw_delete(self, using):
        self._refuse_unscoped()
        return super()._raw_delete(using)

    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(), which is where a new row gets its tenant.
        objs = list(objs)
        for obj in objs:
            if obj.tenant_id is None:
                tenant = current_tenant()
                if tenant is None:
                    raise TenantScopeError(f"{self.model.__name__} bulk-created without a tenant")
                obj.tenant = tenant
        return super().bulk_create(objs, *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    def get_queryset(self):
        value = _current.get()
        if value is None:
            return self._queryset_class(
                model=self.model, query=UnscopedQuery(self.model), using=self._db, hints=self._hints
            )
        queryset = super().get_queryset()
        if value is ALL_TENANTS:
            return queryset
        return queryset.filter(tenant=value)


class TenantOwned(models.Model):
    """Abstract base of every row that belongs to one tenant."""

    tenant = models.ForeignKey("cpms.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    # Following a foreign key (charger.site) uses Django's plain base manager, which is safe:
    # it only reaches rows that a row read in scope points at.

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            tenant = current_tenant()
            # A model whose tenant may be none (a refused handshake naming no known tenant)
            # says so with a nullable field; any other row needs one.
            if tenant is None and not self._meta.get_field("tenant").null:
                raise TenantScopeError(f"{type(self).__name__} saved without a tenant")
            self.tenant = tenant
        super().save(*args, **kwargs)
