"""Reads of the firmware domain for pages and the API: a campaign's counts by state and its
waves' progress, the chargers not on their model's latest image."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from django.db.models import Count

from chargers.firmware.models import (
    FINISHED,
    Campaign,
    CampaignTarget,
    CampaignWave,
    FirmwareImage,
)
from chargers.firmware.planning import version_key
from chargers.models import Charger


@dataclass(frozen=True)
class WaveProgress:
    number: int
    is_canary: bool
    size: int
    state: str
    counts: dict[str, int]
    progress_percent: int
    started_at: datetime | None
    finished_at: datetime | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]
    waves: list[WaveProgress]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return sum(self.counts.get(state, 0) for state in FINISHED)


def campaign_progress(campaign: Campaign) -> Progress:
    """Counts by state for the campaign and for each wave (two queries), cached on the row."""
    cached = getattr(campaign, "_progress", None)
    if isinstance(cached, Progress):
        return cached
    per_wave: dict[int, dict[str, int]] = {}
    rows = (
        CampaignTarget.objects.filter(campaign=campaign)
        .values_list("wave_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: dict[str, int] = {}
    for wave_id, state, n in rows:
        per_wave.setdefault(wave_id, {})[state] = n
        totals[state] = totals.get(state, 0) + n
    waves = []
    for wave in CampaignWave.objects.filter(campaign=campaign).order_by("number"):
        counts = per_wave.get(wave.pk, {})
        done = sum(counts.get(state, 0) for state in FINISHED)
        waves.append(
            WaveProgress(
                number=wave.number,
                is_canary=wave.number == 0 and campaign.canary_size > 0,
                size=wave.size,
                state=str(wave.state),
                counts=counts,
                progress_percent=int(done * 100 / wave.size) if wave.size else 100,
                started_at=wave.started_at,
                finished_at=wave.finished_at,
            )
        )
    progress = Progress(counts=totals, waves=waves)
    campaign._progress = progress  # type: ignore[attr-defined]
    return progress


@dataclass(frozen=True)
class Outdated:
    vendor: str
    model: str
    latest: str
    chargers: int
    by_version: dict[str, int]


def not_on_latest() -> list[Outdated]:
    """Per vendor and model with an image: its highest version (`version_key`) and how many
    chargers run something else, by the version they run."""
    latest: dict[tuple[str, str], str] = {}
    for vendor, model, version in FirmwareImage.objects.values_list("vendor", "model", "version"):
        known = latest.get((vendor, model))
        if known is None or version_key(version) > version_key(known):
            latest[(vendor, model)] = version
    found = []
    for (vendor, model), version in latest.items():
        rows = (
            Charger.objects.filter(vendor=vendor, model=model)
            .exclude(firmware_version=version)
            .values_list("firmware_version")
            .annotate(n=Count("id"))
            .order_by("firmware_version")
        )
        by_version = {running or "unknown": n for running, n in rows}
        if by_version:
            found.append(Outdated(vendor, model, version, sum(by_version.values()), by_version))
    return found
