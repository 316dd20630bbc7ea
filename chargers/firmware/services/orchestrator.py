"""The rollout's writes per charger: each step of a campaign (time out the silent, judge the
waves, start the next chargers), the dispatch of one update, and what the charger then says
(the command's reply, its status notifications, its next boot).

Idempotent throughout, so a restarted worker, a repeated task or a repeated event changes
nothing twice: a step holds the campaign's row lock; a target moves on only from the state the
writer read under its row lock; an update is sent at most once per attempt (a target is claimed
with a new attempt number in one transaction, and `dispatched_at` is set and committed before
the command leaves, so a second dispatch of the same attempt finds it set and sends nothing).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from chargers.firmware import links, planning, texts
from chargers.firmware.events import TargetStateChanged
from chargers.firmware.models import (
    FINISHED,
    IN_FLIGHT,
    Campaign,
    CampaignState,
    CampaignTarget,
    CampaignWave,
    TargetEvent,
    TargetState,
    WaveState,
)
from chargers.firmware.services.campaigns import (
    campaign_complete,
    campaign_halt,
    step_after_commit,
)
from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    SessionState,
)
from chargers.ocpp import builders, readers
from chargers.selectors.chargers import charger_speaks_security_extension
from chargers.services.commands import UNFINISHED
from cpms.events import publish
from cpms.texts import Text, columns, english, word

log = logging.getLogger(__name__)

# How many waiting chargers a step looks at beyond the room it has: enough to pass over
# deferred ones and those outside their window, bounded for fleets of many thousands.
LOOKAHEAD = 200


def _timeouts(campaign: Campaign) -> planning.Timeouts:
    return planning.Timeouts(
        download=campaign.download_timeout_minutes,
        install=campaign.install_timeout_minutes,
        boot=campaign.boot_timeout_minutes,
    )


def _move(target: CampaignTarget, state: str, *, now: datetime, detail: Text | str = "") -> None:
    """Record a target's new state, its timeline entry and the event; the caller holds the
    target's row lock and saves the fields it changed besides these."""
    detail, detail_text = columns(detail)
    target.state = state
    target.stage_deadline = planning.stage_deadline(state, now, _timeouts(target.campaign))
    if state in FINISHED:
        target.finished_at = now
    target.save()
    TargetEvent.objects.create(
        target=target,
        at=now,
        attempt=target.attempt,
        state=state,
        detail=detail[:300],
        detail_text=detail_text,
    )
    publish(TargetStateChanged.of(target, wave=target.wave.number, detail=detail[:300]))


def _fail(target: CampaignTarget, reason: Text | str, *, now: datetime, step: bool = True) -> None:
    """An attempt failed: try again while attempts remain, else the charger failed. Unless
    the caller is the step itself (`step=False`), the campaign is stepped after. `reason` is a
    text (`cpms.texts`), or the charger's own words."""
    plain, target.failure_reason_text = columns(reason)
    target.failure_reason = plain[:300]
    following = planning.after_failure(target.attempt, target.campaign.max_attempts)
    if following == planning.PENDING:
        target.dispatched_at = None
        target.command = None
        target.retry_at = now + timedelta(minutes=target.campaign.retry_delay_minutes)
        _move(target, TargetState.PENDING, now=now, detail=texts.RETRY(reason=reason))
    else:
        _move(target, TargetState.FAILED, now=now, detail=reason)
    if step:
        _queue_step(target)


def _queue_step(target: CampaignTarget) -> None:
    """A charger finished or freed its place: step its campaign now rather than at the next
    tick."""
    step_after_commit(tenant_id=target.tenant_id, campaign_id=target.campaign_id)


def _queue_dispatch(target: CampaignTarget) -> None:
    from chargers.firmware.tasks import dispatch_update

    tenant_id, target_id, attempt = target.tenant_id, target.pk, target.attempt
    transaction.on_commit(
        lambda: dispatch_update.delay(tenant_id=tenant_id, target_id=target_id, attempt=attempt)
    )


def _targets() -> QuerySet[CampaignTarget]:
    return CampaignTarget.objects.select_related("campaign__image", "wave", "charger")


# --- The step ----------------------------------------------------------------------------------


@transaction.atomic
def campaign_step(*, campaign_id: int, now: datetime | None = None) -> list[int]:
    """One step of a campaign; returns the ids of the targets it started. Safe to run at any
    time and any number of times: it holds the campaign's row lock while it decides."""
    now = now or timezone.now()
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("image", "tenant")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None or campaign.state == CampaignState.DRAFT:
        return []
    _time_out_silent(campaign, now)
    if campaign.state != CampaignState.RUNNING:
        return []
    if not _judge_waves(campaign, now):
        return []
    return _start_next(campaign, now)


def _time_out_silent(campaign: Campaign, now: datetime) -> None:
    # A charger sent its update at the end of a deferral waits for its session to end before
    # it installs: its clock does not run while the session does.
    charging = ChargingSession.objects.filter(
        charger_id=OuterRef("charger_id"), state=SessionState.ACTIVE
    )
    overdue = (
        _targets()
        .select_for_update(of=("self",))
        .filter(campaign=campaign, state__in=IN_FLIGHT, stage_deadline__lt=now)
        .exclude(Exists(charging))
    )
    for target in overdue:
        # A boot whose notice never reached us (a lost task, a process that did not know of the
        # update yet) still shows on the charger's row: settle by it before calling it silent.
        charger = target.charger
        booted = (
            charger.last_boot_at is not None
            and target.dispatched_at is not None
            and charger.last_boot_at > target.dispatched_at
        )
        if booted and _settle_boot(target, charger.firmware_version, now=now, step=False):
            continue
        label = word(TargetState(target.state).label, lower=True)
        _fail(target, texts.SILENT(state=label), now=now, step=False)


def _judge_waves(campaign: Campaign, now: datetime) -> bool:
    """Close the waves that are done, halt the campaign on a failing one, open the next one.
    Returns whether the campaign goes on."""
    counts: dict[int, dict[str, int]] = {}
    rows = (
        CampaignTarget.objects.filter(campaign=campaign)
        .values_list("wave_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for wave_id, state, n in rows:
        counts.setdefault(wave_id, {})[state] = n
    waves = list(CampaignWave.objects.select_for_update().filter(campaign=campaign))
    for wave in waves:
        # A done wave is judged again: its deferred chargers start late and may still fail.
        if wave.state not in (WaveState.RUNNING, WaveState.DONE):
            continue
        verdict = planning.wave_verdict(
            counts.get(wave.pk, {}),
            size=wave.size,
            threshold_percent=campaign.failure_threshold_percent,
            overridden=wave.gate_overridden,
            canary=wave.number == 0 and campaign.canary_size > 0,
            deferral_bounded=campaign.defer_minutes is not None,
        )
        if verdict is planning.Verdict.HALT:
            wave.state = WaveState.HALTED
            wave.save(update_fields=["state"])
            failed = counts.get(wave.pk, {}).get(TargetState.FAILED, 0)
            canary = wave.number == 0 and campaign.canary_size
            campaign_halt(
                campaign=campaign,
                reason=texts.WAVE_FAILED(
                    wave=texts.CANARY() if canary else texts.WAVE(number=wave.number),
                    failed=failed,
                    size=wave.size,
                    threshold=campaign.failure_threshold_percent,
                ),
            )
            return False
        if verdict is planning.Verdict.DONE and wave.state == WaveState.RUNNING:
            wave.state, wave.finished_at = WaveState.DONE, now
            wave.save(update_fields=["state", "finished_at"])
    if not any(wave.state == WaveState.RUNNING for wave in waves):
        following = next((wave for wave in waves if wave.state == WaveState.PENDING), None)
        if following is not None:
            following.state, following.started_at = WaveState.RUNNING, now
            following.save(update_fields=["state", "started_at"])
        elif (
            not CampaignTarget.objects.filter(campaign=campaign)
            .exclude(state__in=FINISHED)
            .exists()
        ):
            campaign_complete(campaign=campaign, now=now)
            return False
    return True


def _actionable(campaign: Campaign, now: datetime) -> QuerySet[CampaignTarget]:
    """The waiting targets a step may act on now, chosen in SQL so that a step over thousands
    of waiting chargers reads only those and its queries do not grow with the fleet (and the
    lookahead is not filled with chargers that can do nothing): not those waiting for their
    retry, nor those whose site is outside the window now, nor deferred ones still in their
    session with deferral time left."""
    waiting = CampaignTarget.objects.filter(
        campaign=campaign,
        state__in=(TargetState.PENDING, TargetState.DEFERRED),
        wave__state__in=(WaveState.RUNNING, WaveState.DONE),
    ).filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
    charging = ChargingSession.objects.filter(
        charger_id=OuterRef("charger_id"), state=SessionState.ACTIVE
    )
    still_deferred = Q(state=TargetState.DEFERRED) & Q(Exists(charging))
    if campaign.defer_minutes is not None:
        limit = now - timedelta(minutes=campaign.defer_minutes)
        still_deferred &= Q(deferred_since__gt=limit)
    waiting = waiting.exclude(still_deferred)
    if campaign.window_start is not None and campaign.window_end is not None:
        waiting = waiting.exclude(_outside_window(campaign, now))
    return waiting


def _outside_window(campaign: Campaign, now: datetime) -> Q:
    """Chargers whose local time is outside the campaign's window now: decided once per time
    zone the targets' sites use (a handful), not once per charger."""
    zones = set(
        CampaignTarget.objects.filter(campaign=campaign)
        .values_list("charger__site__timezone", flat=True)
        .distinct()
        .order_by()
    )
    closed = Q(pk__in=[])
    for zone in zones - {None}:
        if not planning.in_window(now, zone, campaign.window_start, campaign.window_end):
            closed |= Q(charger__site__timezone=zone)
    if None in zones and not planning.in_window(
        now, campaign.tenant.timezone, campaign.window_start, campaign.window_end
    ):
        closed |= Q(charger__site__isnull=True)
    return closed


def _start_next(campaign: Campaign, now: datetime) -> list[int]:
    in_flight = CampaignTarget.objects.filter(campaign=campaign, state__in=IN_FLIGHT).count()
    room = campaign.max_in_flight - in_flight
    if room <= 0:
        return []
    waiting = list(
        _actionable(campaign, now)
        .select_related("campaign__image", "wave", "charger__site", "charger__tenant")
        .select_for_update(of=("self",))
        # Deferred chargers first ("deferred" sorts before "pending"): they waited longest.
        .order_by("state", "wave__number", "id")[: room + LOOKAHEAD]
    )
    if not waiting:
        return []
    charger_ids = [target.charger_id for target in waiting]
    charging = set(
        ChargingSession.objects.filter(
            charger_id__in=charger_ids, state=SessionState.ACTIVE
        ).values_list("charger_id", flat=True)
    )
    busy = set(
        CampaignTarget.objects.filter(charger_id__in=charger_ids, state__in=IN_FLIGHT)
        .exclude(campaign=campaign)
        .values_list("charger_id", flat=True)
    )
    candidates = [
        planning.Candidate(
            target_id=target.pk,
            in_window=planning.in_window(
                now, _timezone_of(target.charger), campaign.window_start, campaign.window_end
            ),
            in_session=target.charger_id in charging,
            busy_elsewhere=target.charger_id in busy,
            deferred_since=target.deferred_since,
        )
        for target in waiting
    ]
    limit = timedelta(minutes=campaign.defer_minutes) if campaign.defer_minutes else None
    decisions = planning.choose_starts(
        candidates,
        now=now,
        in_flight=in_flight,
        max_in_flight=campaign.max_in_flight,
        defer_limit=limit,
        send_at_limit=campaign.send_after_deferral,
    )
    started = []
    for target in waiting:
        target.campaign = campaign
        decision = decisions[target.pk]
        if decision is planning.Decision.DEFER and target.state != TargetState.DEFERRED:
            target.deferred_since = now
            _move(target, TargetState.DEFERRED, now=now, detail=texts.SESSION_RUNNING())
        elif decision is planning.Decision.SKIP:
            reason = texts.DEFERRAL_OVER()
            target.failure_reason, target.failure_reason_text = english(reason), reason
            _move(target, TargetState.SKIPPED, now=now, detail=reason)
            _queue_step(target)
        elif decision is planning.Decision.START and _claim(
            target, now, in_session=target.charger_id in charging
        ):
            started.append(target.pk)
    return started


def _timezone_of(charger: Charger) -> str:
    if charger.site is not None:
        return charger.site.timezone
    return charger.tenant.timezone


def _claim(target: CampaignTarget, now: datetime, *, in_session: bool = False) -> bool:
    """Take the target on with a new attempt; the dispatch task sends it."""
    attempt = texts.ATTEMPT_IN_SESSION if in_session else texts.ATTEMPT
    detail = attempt(number=target.attempt + 1)
    target.attempt += 1
    target.request_id = planning.request_id_for(target.pk, target.attempt)
    target.dispatched_at = None
    target.command = None
    target.deferred_since = None
    target.retry_at = None
    target.started_at = target.started_at or now
    try:
        # A savepoint: another campaign's step may have taken the charger meanwhile.
        with transaction.atomic():
            _move(target, TargetState.SENDING, now=now, detail=detail)
    except IntegrityError:
        target.attempt -= 1
        return False
    _queue_dispatch(target)
    return True


# --- The dispatch ------------------------------------------------------------------------------


def target_dispatch(*, target_id: int, attempt: int, now: datetime | None = None) -> int | None:
    """Send the update of one attempt, once; returns the command's id (None: nothing sent,
    because this attempt was sent already, was overtaken, or its campaign paused)."""
    now = now or timezone.now()
    with transaction.atomic():
        target = _targets().select_for_update(of=("self",)).filter(pk=target_id).first()
        if (
            target is None
            or target.state != TargetState.SENDING
            or target.attempt != attempt
            or target.dispatched_at is not None
        ):
            return None
        if target.campaign.state != CampaignState.RUNNING:
            # Paused or cancelled between the claim and now: nothing left; give the place back.
            target.attempt -= 1
            target.dispatched_at = None
            _move(target, TargetState.PENDING, now=now, detail=texts.STOPPED_FIRST())
            return None
        try:
            request = _update_request(target, now)
        except builders.ActionError as error:
            # No attempt will do better: the image or the charger cannot take this update.
            target.attempt = target.campaign.max_attempts
            _fail(target, texts.CANNOT_SEND(error=str(error)), now=now)
            return None
        # Committed before anything leaves: whatever happens next, this attempt is spent.
        target.dispatched_at = now
        target.save(update_fields=["dispatched_at"])
    command = builders.perform(target.charger, request, wait=False, source="firmware")
    with transaction.atomic():
        target = _targets().select_for_update(of=("self",)).get(pk=target_id)
        if target.attempt == attempt and target.command_id is None:
            target.command = command
            target.save(update_fields=["command"])
            command.refresh_from_db()
            if command.status not in UNFINISHED:
                _apply_command_outcome(target, command, now=timezone.now())
    return command.pk


def _update_request(target: CampaignTarget, now: datetime) -> builders.Request:
    image = target.campaign.image
    charger = target.charger
    if image.file:
        grant = links.DownloadGrant(
            tenant_id=target.tenant_id,
            target_id=target.pk,
            charger_id=charger.pk,
            image_id=image.pk,
        )
        name = links.download_file_name(image.model, image.version, image.file_name)
        location = links.download_url(grant, name)
    else:
        location = image.external_url
    signed_16 = image.is_signed and charger_speaks_security_extension(charger)
    return builders.update_firmware(
        charger,
        location=location,
        retrieve_at=now,
        request_id=target.request_id or planning.request_id_for(target.pk, target.attempt),
        signature=image.signature,
        signing_certificate=image.signing_certificate,
        signed_16=signed_16,
    )


def _apply_command_outcome(target: CampaignTarget, command: Command, *, now: datetime) -> None:
    if target.state != TargetState.SENDING:
        return  # the charger's notifications got here first
    if command.status == CommandStatus.ANSWERED:
        accepted, reason = readers.operation_accepted(command.action, command.response)
        if accepted:
            _move(target, TargetState.ACCEPTED, now=now, detail=texts.TOOK_ON())
        else:
            _fail(target, reason, now=now)
        return
    status = CommandStatus(command.status).label
    if command.error:
        _fail(target, texts.NOT_DELIVERED_ERROR(status=status, error=command.error), now=now)
    else:
        _fail(target, texts.NOT_DELIVERED(status=status), now=now)


@transaction.atomic
def target_command_finished(*, command_id: int) -> None:
    """The reply (or the failure) of an update command was recorded."""
    target = _targets().select_for_update(of=("self",)).filter(command_id=command_id).first()
    if target is None:
        return
    command = Command.objects.get(pk=command_id)
    _apply_command_outcome(target, command, now=timezone.now())


# --- What the charger says ---------------------------------------------------------------------


def _in_flight_of(charger_id: int, request_id: int | None) -> CampaignTarget | None:
    targets = (
        _targets()
        .select_for_update(of=("self",))
        .filter(charger_id=charger_id, state__in=IN_FLIGHT)
    )
    if request_id is not None:
        targets = targets.filter(request_id=request_id)
    return targets.first()


@transaction.atomic
def target_progress(
    *, charger_id: int, stage: str, status: str, request_id: int | None = None
) -> None:
    """A firmware status notification of a charger with an update under way; `stage` is its
    meaning (`chargers.ocpp.readers.FIRMWARE_STAGES`)."""
    target = _in_flight_of(charger_id, request_id)
    if target is None:
        return
    now = timezone.now()
    target.last_status = status[:40]
    if stage == "failed":
        _fail(target, texts.REPORTED(status=status), now=now)
    elif planning.is_progress(target.state, stage):
        said = texts.REPORTED_INSTALLED if stage == planning.INSTALLED else texts.REPORTED
        _move(target, stage, now=now, detail=said(status=status))
    else:
        target.save(update_fields=["last_status", "updated_at"])


@transaction.atomic
def target_booted(*, charger_id: int, firmware_version: str) -> None:
    """A charger with an update under way booted."""
    target = _in_flight_of(charger_id, None)
    if target is not None:
        _settle_boot(target, firmware_version, now=timezone.now())


def _settle_boot(
    target: CampaignTarget, firmware_version: str, *, now: datetime, step: bool = True
) -> bool:
    """On the target version the charger is updated; back on another version after installing,
    the update failed, whatever it reported before. Returns whether the boot settled it (a
    restart while downloading tells nothing yet). The caller holds the target's row lock."""
    wanted = target.campaign.image.version
    outcome = planning.boot_outcome(
        target.state, reported_version=firmware_version, target_version=wanted
    )
    if outcome == planning.SUCCEEDED:
        target.failure_reason, target.failure_reason_text = "", None
        _move(target, TargetState.SUCCEEDED, now=now, detail=texts.BOOTED_ON(version=wanted))
        if step:
            _queue_step(target)
    elif outcome == planning.FAILED:
        said = target.last_status or TargetState(target.state).label
        _fail(
            target,
            texts.BOOTED_OLD(
                said=said,
                version=firmware_version or texts.UNKNOWN_VERSION(),
                wanted=wanted,
            ),
            now=now,
            step=step,
        )
    return outcome is not None


def campaigns_to_step() -> list[int]:
    """The campaigns a tick steps: running or paused ones, and cancelled ones whose last
    updates are still at their chargers (to time them out)."""
    active = Campaign.objects.filter(state__in=(CampaignState.RUNNING, CampaignState.PAUSED))
    ids = list(active.values_list("pk", flat=True))
    ids += list(
        CampaignTarget.objects.filter(campaign__state=CampaignState.CANCELLED, state__in=IN_FLIGHT)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return sorted(set(ids))
