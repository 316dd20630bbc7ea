"""The URLs chargers are given: a firmware download signed per charger and campaign target,
expiring; a diagnostics upload with a one-time token. Chargers have no login: the signature
or the token is the only authority these URLs carry."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.text import slugify

DOWNLOAD_SALT = "chargers.firmware.download"


def download_hours() -> float:
    return float(getattr(settings, "FIRMWARE_DOWNLOAD_LINK_HOURS", 48))


@dataclass(frozen=True)
class DownloadGrant:
    tenant_id: int
    target_id: int
    charger_id: int
    image_id: int


def download_file_name(vendor_model: str, version: str, original: str) -> str:
    """The file name in the download URL: the model and version, so that chargers (and the
    people reading their logs) see what they fetch; the original extension is kept."""
    extension = slugify(original.rsplit(".", 1)[-1])[:10] if "." in original else ""
    safe_version = re.sub(r"[^A-Za-z0-9._-]+", "-", version).strip(".-")[:40] or "firmware"
    return f"{slugify(vendor_model)[:60] or 'firmware'}-{safe_version}.{extension or 'bin'}"


def download_url(grant: DownloadGrant, file_name: str) -> str:
    token = signing.dumps(
        [grant.tenant_id, grant.target_id, grant.charger_id, grant.image_id],
        salt=DOWNLOAD_SALT,
        compress=True,
    )
    path = reverse("firmware_download", kwargs={"token": token, "file_name": file_name})
    return settings.SITE_URL.rstrip("/") + path


def read_download_token(token: str) -> DownloadGrant | None:
    """The grant a download token carries, or None: forged, altered or expired alike."""
    try:
        values = signing.loads(token, salt=DOWNLOAD_SALT, max_age=timedelta(hours=download_hours()))
    except signing.BadSignature:
        return None
    if not (
        isinstance(values, list) and len(values) == 4 and all(isinstance(v, int) for v in values)
    ):
        return None
    return DownloadGrant(*values)


def new_upload_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def upload_url(tenant_slug: str, token: str) -> str:
    path = reverse("diagnostics_upload", kwargs={"tenant": tenant_slug, "token": token})
    return settings.SITE_URL.rstrip("/") + path
