"""Tenant A's firmware rows for the shared `world` fixture (tests/conftest.py): an image in use
and a spare one, campaigns in each state an action needs, a target with its timeline, and an
uploaded diagnostics file. Called inside tenant A's scope."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from chargers.firmware.models import (
    Campaign,
    CampaignState,
    CampaignTarget,
    CampaignWave,
    DiagnosticsRequest,
    DiagnosticsState,
    FirmwareImage,
    TargetEvent,
    TargetState,
)
from chargers.models import Charger


def firmware_world(charger, site, *, with_file=True):
    now = timezone.now()
    image = FirmwareImage.objects.create(
        vendor="Acme", model="AC22", version="2.0.0", external_url="https://fw.a.test/2.0.0.bin"
    )
    spare = FirmwareImage.objects.create(
        vendor="Acme", model="AC22", version="1.9.0", external_url="https://fw.a.test/1.9.0.bin"
    )
    updating = Charger.objects.create(
        identity="CP-A-FW", site=site, vendor="Acme", model="AC22", firmware_version="1.0.0"
    )
    draft = Campaign.objects.create(name="Night rollout A", image=image)
    running = Campaign.objects.create(
        name="Rollout A", image=image, state=CampaignState.RUNNING, started_at=now
    )
    paused = Campaign.objects.create(
        name="Paused rollout A",
        image=image,
        state=CampaignState.PAUSED,
        started_at=now,
        paused_reason="Paused by an operator.",
    )
    wave = CampaignWave.objects.create(campaign=running, number=0, size=1, state="running")
    target = CampaignTarget.objects.create(
        campaign=running,
        wave=wave,
        charger=updating,
        from_version="1.0.0",
        state=TargetState.DOWNLOADING,
        attempt=1,
    )
    TargetEvent.objects.create(target=target, at=now, attempt=1, state="downloading")
    diagnostics = DiagnosticsRequest(
        charger=charger,
        state=DiagnosticsState.UPLOADED,
        token_hash="0" * 64,
        token_expires_at=now + timedelta(hours=1),
        token_used_at=now,
        file_name="diagnostics-CP-A.txt",
        size=12,
        uploaded_at=now,
        keep_until=now + timedelta(days=30),
    )
    diagnostics.save()
    if with_file:
        diagnostics.file.save("diagnostics-CP-A.txt", ContentFile(b"CP-A log 1\n"))
    return {
        "firmware_image": image,
        "spare_firmware_image": spare,
        "campaign": draft,
        "running_campaign": running,
        "paused_campaign": paused,
        "campaign_target": target,
        "diagnostics": diagnostics,
    }
