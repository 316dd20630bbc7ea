"""Writes of firmware images: kept with their SHA-256 (and signature) or pointing at an
external URL; removed only while no campaign uses them."""

from __future__ import annotations

import hashlib
import os
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext

from chargers.firmware.models import FirmwareImage
from cpms.models import User

CHUNK = 1024 * 1024


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    """The hex SHA-256 and size of a file, read in chunks from its start."""
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def image_create(
    *,
    vendor: str,
    model: str,
    version: str,
    file: File | None = None,
    external_url: str = "",
    signature: str = "",
    signing_certificate: str = "",
    notes: str = "",
    uploaded_by: User | None = None,
) -> FirmwareImage:
    """Keep an image: an uploaded `file` (its hash computed here) or an `external_url`.
    Raises ValidationError naming the field at fault."""
    if bool(file) == bool(external_url):
        raise ValidationError(
            {"file": [gettext("Give either a file or an external URL, not both.")]}
        )
    if external_url:
        try:
            URLValidator(schemes=["http", "https"])(external_url)
        except ValidationError:
            raise ValidationError(
                {"external_url": [gettext("An http(s) URL chargers can fetch the image from.")]}
            ) from None
    if bool(signature) != bool(signing_certificate):
        raise ValidationError(
            {
                "signature": [
                    gettext("A signed image needs both the signature and the signing certificate.")
                ]
            }
        )
    if FirmwareImage.objects.filter(vendor=vendor, model=model, version=version).exists():
        raise ValidationError(
            {"version": [gettext("This vendor's model already has that version.")]}
        )
    image = FirmwareImage(
        vendor=vendor,
        model=model,
        version=version,
        external_url=external_url,
        signature=signature.strip(),
        signing_certificate=signing_certificate.strip(),
        notes=notes,
        uploaded_by=uploaded_by,
    )
    if file:
        image.sha256, image.size = sha256_of(file)
        original = os.path.basename(file.name or "firmware.bin")
        image.file_name = original[:200]
        # The stored name is ours: the original one is only shown.
        extension = original.rsplit(".", 1)[-1][:10] if "." in original else "bin"
        image.file.save(f"{get_random_string(16)}.{extension}", file, save=False)
    image.save()
    return image


@transaction.atomic
def image_delete(*, image: FirmwareImage) -> None:
    if image.campaigns.exists():
        raise ValidationError({"image": [gettext("A campaign uses this image; it stays.")]})
    stored = image.file.name if image.file else ""
    storage = image.file.storage if image.file else None
    image.delete()
    if storage is not None and stored:
        transaction.on_commit(lambda: storage.delete(stored))
