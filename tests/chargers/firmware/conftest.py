"""Fixtures of the firmware tests: a fake fleet in place of the command path, and images."""

import pytest
from django.core.files.base import ContentFile

from chargers.firmware.services.images import image_create
from chargers.ocpp import builders
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import FIRMWARE, MODEL, VENDOR, FakeFleet


@pytest.fixture
def fake_fleet(monkeypatch):
    fleet = FakeFleet()
    monkeypatch.setattr(builders, "perform", fleet.perform)
    return fleet


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def image(tenant_a, alice, media):
    with scoping.scope(tenant_a):
        return image_create(
            vendor=VENDOR,
            model=MODEL,
            version="2.0.0",
            file=ContentFile(FIRMWARE, name="ac22-2.0.0.bin"),
            uploaded_by=alice,
        )
