"""Writes of tenants themselves: a new charge point operator with its first admin, its logo."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from cpms.models import Membership, Role, Tenant
from cpms.tenancy import scoping


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str,
    timezone: str = "UTC",
    currency: str = "EUR",
) -> tuple[Tenant, bool]:
    """A new tenant with its first admin (who may administer it in the Django admin too).
    Returns the tenant and whether the admin's account is new (an existing one keeps its
    password)."""
    tenant = Tenant(slug=slug, name=name, timezone=timezone, currency=currency)
    tenant.full_clean()
    tenant.save()
    UserModel = get_user_model()
    email = admin_email.strip().lower()
    user = UserModel.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = UserModel.objects.create_user(email=email, password=admin_password, is_staff=True)
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    with scoping.scope(tenant):
        Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    return tenant, created


# --- Branding -----------------------------------------------------------------------------------

LOGO_MAX_BYTES = 512 * 1024


def logo_type(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an image we accept as a logo, from its first 12 bytes.
    Raster formats only, told by their bytes (never by the name or the browser's word): an SVG
    may carry script, and the logo is served from our own origin."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


@transaction.atomic
def tenant_set_logo(*, tenant: Tenant, upload: File[bytes]) -> Tenant:
    """Store `upload` as the tenant's logo, replacing the one before. Raises ValidationError
    naming `logo` for a file that is too large or not a PNG, JPEG or WebP image."""
    if upload.size is None or upload.size > LOGO_MAX_BYTES:
        raise ValidationError(
            {
                "logo": [
                    (_("Use an image of at most %(size)s KB.") % {"size": LOGO_MAX_BYTES // 1024})
                ]
            }
        )
    upload.seek(0)
    found = logo_type(upload.read(12))
    upload.seek(0)
    if found is None:
        raise ValidationError({"logo": [_("Use a PNG, JPEG or WebP image.")]})
    previous = tenant.logo.name
    # A new name for each logo: pages and caches that hold the old address ask for it anew.
    tenant.logo.save(f"logo-{secrets.token_hex(6)}.{found[0]}", upload, save=False)
    Tenant.objects.filter(pk=tenant.pk).update(logo=tenant.logo.name)
    if previous:
        transaction.on_commit(lambda: default_storage.delete(previous))
    return tenant


@transaction.atomic
def tenant_remove_logo(*, tenant: Tenant) -> Tenant:
    previous = tenant.logo.name
    Tenant.objects.filter(pk=tenant.pk).update(logo="")
    tenant.logo = ""
    if previous:
        transaction.on_commit(lambda: default_storage.delete(previous))
    return tenant
