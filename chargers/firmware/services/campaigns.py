"""Writes of campaigns as operators see them: create (a draft), start (the targets frozen into
waves), pause, resume and cancel. What happens to each charger afterwards is the orchestrator's
(`chargers.firmware.services.orchestrator`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from chargers import tags as charger_tags
from chargers.firmware import planning, texts
from chargers.firmware.events import CampaignStateChanged
from chargers.firmware.models import (
    Campaign,
    CampaignState,
    CampaignTarget,
    CampaignWave,
    FirmwareImage,
    TargetEvent,
    TargetState,
    WaveState,
)
from chargers.models import Charger
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.models import Site, User
from cpms.texts import Text, columns, english


def _check(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if fields.get("batch_size") and fields.get("batch_percent"):
        errors["batch_size"] = ["Give batches by count or by percentage, not both."]
    percent = fields.get("batch_percent")
    if percent is not None and not 1 <= percent <= 100:
        errors["batch_percent"] = ["A percentage from 1 to 100."]
    if not 0 <= fields.get("failure_threshold_percent", 10) <= 100:
        errors["failure_threshold_percent"] = ["A percentage from 0 to 100."]
    if (fields.get("window_start") is None) != (fields.get("window_end") is None):
        errors["window_end"] = ["A maintenance window needs both its start and its end."]
    if fields.get("max_attempts", 1) < 1:
        errors["max_attempts"] = ["At least one attempt."]
    if fields.get("max_in_flight", 1) < 1:
        errors["max_in_flight"] = ["At least one charger at a time."]
    for name in ("download_timeout_minutes", "install_timeout_minutes", "boot_timeout_minutes"):
        if fields.get(name, 1) < 1:
            errors[name] = ["At least one minute."]
    if errors:
        raise ValidationError(errors)


# What an operator's start, pause, resume or cancel changes, as the audit log shows it.
STATE_FIELDS = ("state", "started_at", "finished_at", "paused_reason")


@transaction.atomic
def campaign_create(
    *,
    name: str,
    image: FirmwareImage,
    sites: Sequence[Site] = (),
    from_versions: Sequence[str] = (),
    tags: Sequence[str] = (),
    created_by: User | None = None,
    window_start: time | None = None,
    window_end: time | None = None,
    **settings: Any,
) -> Campaign:
    """A draft campaign; nothing is sent until it starts. `settings` are the campaign's
    other fields (canary_size, batch_size or batch_percent, max_in_flight, ...). `tags`
    narrows the targets to chargers carrying one of them; a bad tag raises ValidationError
    naming `tags`."""
    _check({**settings, "window_start": window_start, "window_end": window_end})
    try:
        tags = charger_tags.clean_tags(tags)
    except ValidationError as error:
        raise ValidationError({"tags": error.messages}) from None
    campaign = Campaign.objects.create(
        name=name,
        image=image,
        from_versions=[v for v in from_versions if v],
        tags=tags,
        created_by=created_by,
        window_start=window_start,
        window_end=window_end,
        **settings,
    )
    campaign.sites.set(sites)
    audit.created(campaign, ObjectType.FIRMWARE_CAMPAIGN)
    return campaign


def matching_chargers(campaign: Campaign) -> QuerySet[Charger]:
    """The chargers the campaign's filter chooses now: the image's vendor and model, not yet on
    its version, within the sites, current versions and tags it names."""
    image = campaign.image
    chargers = Charger.objects.filter(vendor=image.vendor, model=image.model).exclude(
        firmware_version=image.version
    )
    site_ids = list(campaign.sites.values_list("pk", flat=True)) if campaign.pk else []
    if site_ids:
        chargers = chargers.filter(site_id__in=site_ids)
    if campaign.from_versions:
        chargers = chargers.filter(firmware_version__in=campaign.from_versions)
    if campaign.tags:
        chargers = chargers.filter(charger_tags.tagged_any(campaign.tags))
    return chargers.order_by("site_id", "identity")


def campaign_changed(campaign: Campaign) -> None:
    """Tell listeners (webhooks) the campaign's state changed; in the caller's transaction."""
    publish(CampaignStateChanged.of(campaign))


# How long a queued step's mark holds back more of them when the step never runs (a lost task):
# the tick steps every campaign each minute anyway.
STEP_MARK_SECONDS = 30


def _step_mark(campaign_id: int) -> str:
    return f"firmware:step-queued:{campaign_id}"


def queue_step(tenant_id: int, campaign_id: int) -> None:
    """Queue a step of the campaign unless one is queued and has not begun yet. Chargers
    finishing together (hundreds a minute in a 10,000-charger rollout) ask for one step, not one
    each, and every step reads the whole campaign. The step clears the mark as it begins
    (`step_begun`), so a change after that queues the next one."""
    from chargers.firmware.tasks import step_campaign

    if cache.add(_step_mark(campaign_id), 1, timeout=STEP_MARK_SECONDS):
        step_campaign.delay(tenant_id=tenant_id, campaign_id=campaign_id)


def step_begun(*, campaign_id: int) -> None:
    cache.delete(_step_mark(campaign_id))


def step_after_commit(*, tenant_id: int, campaign_id: int) -> None:
    """Step the campaign once the caller's transaction commits (steps queued meanwhile by
    other chargers are one step)."""
    transaction.on_commit(lambda: queue_step(tenant_id, campaign_id))


def _queue_step(campaign: Campaign) -> None:
    step_after_commit(tenant_id=campaign.tenant_id, campaign_id=campaign.pk)


def _locked(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("image").get(pk=campaign.pk)
    )


@transaction.atomic
def campaign_start(*, campaign: Campaign) -> Campaign:
    """Freeze the targets (the filter's chargers now) into waves and start the first."""
    campaign = _locked(campaign)
    if campaign.state != CampaignState.DRAFT:
        raise ValidationError({"state": [gettext("Only a draft campaign can start.")]})
    chargers = list(matching_chargers(campaign).values_list("pk", "firmware_version"))
    if not chargers:
        raise ValidationError({"image": [gettext("No charger matches this campaign's filter.")]})
    sizes = planning.wave_sizes(
        len(chargers),
        canary=campaign.canary_size,
        batch_size=campaign.batch_size,
        batch_percent=campaign.batch_percent,
    )
    now = timezone.now()
    waves = CampaignWave.objects.bulk_create(
        CampaignWave(campaign=campaign, number=number, size=size)
        for number, size in enumerate(sizes)
    )
    targets = []
    remaining = iter(chargers)
    for wave, size in zip(waves, sizes, strict=True):
        for _ in range(size):
            charger_id, version = next(remaining)
            targets.append(
                CampaignTarget(
                    campaign=campaign, wave=wave, charger_id=charger_id, from_version=version
                )
            )
    CampaignTarget.objects.bulk_create(targets, batch_size=500)
    before = audit.snapshot(campaign, STATE_FIELDS)
    campaign.state = CampaignState.RUNNING
    campaign.started_at = now
    campaign.paused_reason = ""
    campaign.save(update_fields=["state", "started_at", "paused_reason"])
    audit.changed(campaign, ObjectType.FIRMWARE_CAMPAIGN, before=before, action=Verb.START)
    campaign_changed(campaign)
    _queue_step(campaign)
    return campaign


def campaign_complete(*, campaign: Campaign, now: datetime) -> None:
    """Every charger of a campaign the orchestrator holds locked has finished."""
    campaign.state, campaign.finished_at = CampaignState.COMPLETED, now
    campaign.save(update_fields=["state", "finished_at"])
    campaign_changed(campaign)


def campaign_halt(*, campaign: Campaign, reason: Text | str) -> None:
    """Pause a running campaign the orchestrator holds locked (a wave's failures)."""
    campaign.state = CampaignState.PAUSED
    plain, campaign.paused_reason_text = columns(reason)
    campaign.paused_reason = plain[:300]
    campaign.save(update_fields=["state", "paused_reason", "paused_reason_text"])
    campaign_changed(campaign)


@transaction.atomic
def campaign_pause(*, campaign: Campaign, reason: Text | str | None = None) -> Campaign:
    """Start no more chargers; updates already at a charger go on and are followed."""
    campaign = _locked(campaign)
    if campaign.state != CampaignState.RUNNING:
        raise ValidationError({"state": [gettext("Only a running campaign can pause.")]})
    before = audit.snapshot(campaign, STATE_FIELDS)
    campaign_halt(campaign=campaign, reason=reason or texts.PAUSED_BY_OPERATOR())
    audit.changed(campaign, ObjectType.FIRMWARE_CAMPAIGN, before=before, action=Verb.PAUSE)
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Go on; a wave that halted the campaign on its failures no longer holds it."""
    campaign = _locked(campaign)
    if campaign.state != CampaignState.PAUSED:
        raise ValidationError({"state": [gettext("Only a paused campaign can resume.")]})
    CampaignWave.objects.filter(campaign=campaign, state=WaveState.HALTED).update(
        state=WaveState.RUNNING, gate_overridden=True
    )
    before = audit.snapshot(campaign, STATE_FIELDS)
    campaign.state = CampaignState.RUNNING
    campaign.paused_reason, campaign.paused_reason_text = "", None
    campaign.save(update_fields=["state", "paused_reason", "paused_reason_text"])
    audit.changed(campaign, ObjectType.FIRMWARE_CAMPAIGN, before=before, action=Verb.RESUME)
    campaign_changed(campaign)
    _queue_step(campaign)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop the campaign: chargers not started are cancelled; updates already at a charger
    cannot be called back and are still followed to their end."""
    campaign = _locked(campaign)
    if campaign.state in (CampaignState.COMPLETED, CampaignState.CANCELLED):
        raise ValidationError({"state": [gettext("This campaign has ended already.")]})
    now = timezone.now()
    waiting = CampaignTarget.objects.filter(
        campaign=campaign, state__in=(TargetState.PENDING, TargetState.DEFERRED)
    )
    cancelled = texts.CANCELLED()
    TargetEvent.objects.bulk_create(
        TargetEvent(
            target_id=pk,
            at=now,
            attempt=attempt,
            state=TargetState.CANCELLED,
            detail=english(cancelled),
            detail_text=cancelled,
        )
        for pk, attempt in waiting.values_list("pk", "attempt")
    )
    waiting.update(state=TargetState.CANCELLED, finished_at=now)
    before = audit.snapshot(campaign, STATE_FIELDS)
    campaign.state = CampaignState.CANCELLED
    campaign.finished_at = now
    campaign.save(update_fields=["state", "finished_at"])
    audit.changed(campaign, ObjectType.FIRMWARE_CAMPAIGN, before=before, action=Verb.CANCEL)
    campaign_changed(campaign)
    return campaign
