"""Writes of a tenant's places: sites and the site owners (customers) who host them."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import transaction

from cpms.audit import services as audit
from cpms.audit.models import ObjectType
from cpms.models import Site, SiteOwner
from cpms.services.checks import unique_in_tenant

SITE_FIELDS = (
    "name",
    "site_owner",
    "street",
    "postal_code",
    "city",
    "country",
    "timezone",
    "grid_limit_kw",
    "latitude",
    "longitude",
)
SITE_OWNER_FIELDS = ("name", "contact_email", "contact_phone")

_Place = TypeVar("_Place", Site, SiteOwner)


def _write(
    instance: _Place, fields: tuple[str, ...], changes: dict[str, Any], object_type: str
) -> _Place:
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"not {type(instance).__name__} fields: {', '.join(sorted(unknown))}")
    before = audit.snapshot(instance, fields) if instance.pk else None
    for name, value in changes.items():
        setattr(instance, name, value)
    # Fields and clean() (a site owner of this tenant); the tenant comes from the scope.
    instance.full_clean(exclude=["tenant"], validate_constraints=False)
    unique_in_tenant(type(instance), field="name", value=instance.name, instance=instance)
    with transaction.atomic():
        instance.save()
        if before is None:
            audit.created(instance, object_type)
        else:
            audit.changed(instance, object_type, before=before)
    return instance


def site_create(**fields: Any) -> Site:
    return _write(Site(), SITE_FIELDS, fields, ObjectType.SITE)


def site_update(*, site: Site, **changes: Any) -> Site:
    return _write(site, SITE_FIELDS, changes, ObjectType.SITE)


def site_delete(*, site: Site) -> None:
    """Its chargers stay, with no site; its sessions keep their history."""
    with transaction.atomic():
        audit.deleted(site, ObjectType.SITE)
        site.delete()


def site_owner_create(**fields: Any) -> SiteOwner:
    return _write(SiteOwner(), SITE_OWNER_FIELDS, fields, ObjectType.SITE_OWNER)


def site_owner_update(*, owner: SiteOwner, **changes: Any) -> SiteOwner:
    return _write(owner, SITE_OWNER_FIELDS, changes, ObjectType.SITE_OWNER)


def site_owner_delete(*, owner: SiteOwner) -> None:
    with transaction.atomic():
        audit.deleted(owner, ObjectType.SITE_OWNER)
        owner.delete()
