"""Campaigns on a fleet of in-process chargers: waves and their gate, pause and resume,
deferral for sessions, windows per site time zone, the boot that decides an update, silent
chargers, and a restarted worker that sends nothing twice."""

from datetime import UTC, datetime, time, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from chargers.events import ChargerBooted, OperationStatusReported, SessionStopped
from chargers.firmware import listeners
from chargers.firmware.events import CampaignStateChanged, TargetStateChanged
from chargers.firmware.models import (
    CampaignState,
    CampaignTarget,
    TargetEvent,
    TargetState,
    WaveState,
)
from chargers.firmware.selectors import campaign_progress
from chargers.firmware.services.campaigns import (
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_start,
)
from chargers.firmware.services.images import image_create
from chargers.firmware.services.orchestrator import (
    campaign_step,
    target_booted,
    target_dispatch,
    target_progress,
)
from chargers.models import ChargerEvent, ChargingSession, EventKind, SessionState
from cpms.events import captured, publish
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import make_chargers, report
from tests.helpers import eager_tasks


def targets_by_state(campaign):
    return {
        state: sorted(
            CampaignTarget.objects.filter(campaign=campaign, state=state).values_list(
                "charger__identity", flat=True
            )
        )
        for state in TargetState.values
        if CampaignTarget.objects.filter(campaign=campaign, state=state).exists()
    }


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """run(fn, ...) calls fn with Celery eager and every on-commit callback run, as a worker
    and a committed transaction would."""

    def call(fn, *args, **kwargs):
        with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


def play_until_quiet(fleet, run, campaign, rounds=30):
    for _ in range(rounds):
        if not run(fleet.play):
            break
    campaign.refresh_from_db()


def test_a_hundred_chargers_with_five_failures_pause_on_a_wave_and_finish_once_resumed(
    tenant_a, site_a, image, fake_fleet, run
):
    # Waves: a canary of 5, then 19 at a time; three failures fall in wave 2 (one of them
    # reports Installed and comes back on the old version), one each in waves 3 and 4.
    fake_fleet.failing = {"CP-0030", "CP-0032", "CP-0050", "CP-0070"}
    fake_fleet.old_version = {"CP-0031"}
    with scoping.scope(tenant_a):
        make_chargers(100, site=site_a)
        campaign = campaign_create(
            name="AC22 to 2.0.0",
            image=image,
            canary_size=5,
            batch_size=19,
            max_in_flight=25,
            failure_threshold_percent=10,
            max_attempts=1,
        )
        with captured(CampaignStateChanged) as changes:
            run(campaign_start, campaign=campaign)
            play_until_quiet(fake_fleet, run, campaign)

            assert campaign.state == CampaignState.PAUSED
            assert campaign.paused_reason == "Wave 2: 3 of 19 chargers failed, more than 10%."
            waves = {w.number: w.state for w in campaign.waves.all()}
            assert waves == {
                0: WaveState.DONE,
                1: WaveState.DONE,
                2: WaveState.HALTED,
                3: WaveState.PENDING,
                4: WaveState.PENDING,
                5: WaveState.PENDING,
            }
            assert not fake_fleet.sent_to("CP-0044")  # nothing of wave 3 was sent

            run(campaign_resume, campaign=campaign)
            play_until_quiet(fake_fleet, run, campaign)

        assert campaign.state == CampaignState.COMPLETED
        final = targets_by_state(campaign)
        assert final[TargetState.FAILED] == ["CP-0030", "CP-0031", "CP-0032", "CP-0050", "CP-0070"]
        assert len(final[TargetState.SUCCEEDED]) == 95
        assert [c.state for c in changes] == ["running", "paused", "running", "completed"]
        # Every charger got its update exactly once.
        assert len(fake_fleet.sent) == 100
        assert len({s.identity for s in fake_fleet.sent}) == 100
        old = CampaignTarget.objects.get(charger__identity="CP-0031")
        assert old.failure_reason == "Reported Installed but booted on 1.0.0, not 2.0.0."
        progress = campaign_progress(campaign)
        assert progress.counts == {"succeeded": 95, "failed": 5}
        assert [w.progress_percent for w in progress.waves] == [100] * 6


def test_the_canary_passing_starts_the_first_batch_and_not_before(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        make_chargers(10, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=2, batch_size=4)
        run(campaign_start, campaign=campaign)

        # The canary's updates went out; the batches wait for its verdict.
        assert sorted(s.identity for s in fake_fleet.sent) == ["CP-0001", "CP-0002"]

        run(fake_fleet.play)

        assert sorted(s.identity for s in fake_fleet.sent)[2:] == [
            "CP-0003",
            "CP-0004",
            "CP-0005",
            "CP-0006",
        ]


def test_a_failing_canary_pauses_the_campaign(tenant_a, site_a, image, fake_fleet, run):
    fake_fleet.failing = {"CP-0001"}
    with scoping.scope(tenant_a):
        make_chargers(10, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=2, batch_size=4, max_attempts=1
        )
        run(campaign_start, campaign=campaign)
        play_until_quiet(fake_fleet, run, campaign)

    assert campaign.state == CampaignState.PAUSED
    assert campaign.paused_reason.startswith("The canary: 1 of 2 chargers failed")
    assert len(fake_fleet.sent) == 2


def test_a_failed_attempt_is_retried_with_a_new_request(tenant_a, site_a, image, fake_fleet, run):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a, start=2)  # 2.0.1: requests carry ids
        campaign = campaign_create(
            name="c", image=image, canary_size=0, max_attempts=2, retry_delay_minutes=10
        )
        fake_fleet.failing = {charger.identity}
        run(campaign_start, campaign=campaign)
        run(fake_fleet.play)  # attempt 1 fails; attempt 2 waits for the retry delay
        fake_fleet.failing = set()

        soon = timezone.now() + timedelta(minutes=9)
        assert run(campaign_step, campaign_id=campaign.pk, now=soon) == []
        assert len(fake_fleet.sent) == 1
        later = timezone.now() + timedelta(minutes=11)
        assert len(run(campaign_step, campaign_id=campaign.pk, now=later)) == 1
        run(fake_fleet.play)
        campaign.refresh_from_db()

        target = CampaignTarget.objects.get(campaign=campaign)
        assert target.state == TargetState.SUCCEEDED and target.attempt == 2
        ids = [s.payload["requestId"] for s in fake_fleet.sent]
        assert len(ids) == 2 and ids[0] != ids[1]
        timeline = list(TargetEvent.objects.filter(target=target).values_list("attempt", "state"))
        assert ("1", "pending") not in timeline
        # (The retry's own events are stamped with the step's later clock.)
        assert (1, "pending") in timeline and (2, "sending") in timeline
        assert (2, "succeeded") in timeline
        assert campaign.state == CampaignState.COMPLETED


def test_chargers_in_a_session_are_deferred_and_updated_once_it_ends(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        chargers = make_chargers(4, site=site_a)
        for charger in chargers[:2]:
            ChargingSession.objects.create(
                charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
            )
        campaign = campaign_create(name="c", image=image, canary_size=0)
        run(campaign_start, campaign=campaign)
        play_until_quiet(fake_fleet, run, campaign)

        assert targets_by_state(campaign) == {
            TargetState.DEFERRED: ["CP-0001", "CP-0002"],
            TargetState.SUCCEEDED: ["CP-0003", "CP-0004"],
        }
        assert campaign.state == CampaignState.RUNNING  # the deferred hold the campaign open

        # Each stop steps the campaign at once: no tick is needed.
        for session in ChargingSession.objects.all():
            session.state, session.stopped_at = SessionState.COMPLETED, timezone.now()
            session.save(update_fields=["state", "stopped_at"])
            run(publish, SessionStopped.of(session))
        play_until_quiet(fake_fleet, run, campaign)

        assert targets_by_state(campaign) == {
            TargetState.SUCCEEDED: ["CP-0001", "CP-0002", "CP-0003", "CP-0004"]
        }
        assert campaign.state == CampaignState.COMPLETED


def test_late_failures_of_deferred_chargers_still_pause_the_campaign(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        chargers = make_chargers(6, site=site_a)
        session = ChargingSession.objects.create(
            charger=chargers[1], evse_id=1, connector_id=1, started_at=timezone.now()
        )
        campaign = campaign_create(
            name="c", image=image, canary_size=1, batch_size=2, max_attempts=1
        )
        fake_fleet.failing = {"CP-0002"}
        run(campaign_start, campaign=campaign)
        run(fake_fleet.play)  # the canary; wave 1 defers CP-0002 and updates CP-0003
        run(fake_fleet.play)
        assert CampaignTarget.objects.get(charger=chargers[1]).state == TargetState.DEFERRED
        ChargingSession.objects.filter(pk=session.pk).update(state=SessionState.COMPLETED)

        run(campaign_step, campaign_id=campaign.pk)
        play_until_quiet(fake_fleet, run, campaign)

        assert campaign.state == CampaignState.PAUSED
        assert campaign.paused_reason.startswith("Wave 1: 1 of 2 chargers failed")


def test_a_wave_waits_for_its_deferred_chargers_when_the_deferral_is_bounded(
    tenant_a, site_a, image, fake_fleet, run
):
    # Waves go one after another: the next one opens once this one's deferred charger has had
    # its update, at the latest when its deferral runs out.
    with scoping.scope(tenant_a):
        chargers = make_chargers(4, site=site_a)
        ChargingSession.objects.create(
            charger=chargers[0], evse_id=1, connector_id=1, started_at=timezone.now()
        )
        campaign = campaign_create(
            name="c", image=image, canary_size=0, batch_size=2, defer_minutes=10
        )
        run(campaign_start, campaign=campaign)
        play_until_quiet(fake_fleet, run, campaign)

        assert targets_by_state(campaign) == {
            TargetState.PENDING: ["CP-0003", "CP-0004"],
            TargetState.DEFERRED: ["CP-0001"],
            TargetState.SUCCEEDED: ["CP-0002"],
        }

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=11))
        play_until_quiet(fake_fleet, run, campaign)

        assert [s.identity for s in fake_fleet.sent] == ["CP-0002", "CP-0001", "CP-0003", "CP-0004"]
        assert campaign.state == CampaignState.COMPLETED


def test_a_charger_deferred_past_its_limit_is_skipped(tenant_a, site_a, image, fake_fleet, run):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        ChargingSession.objects.create(
            charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
        )
        campaign = campaign_create(
            name="c", image=image, canary_size=0, defer_minutes=60, send_after_deferral=False
        )
        run(campaign_start, campaign=campaign)
        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=61))
        campaign.refresh_from_db()

        target = CampaignTarget.objects.get()
        assert target.state == TargetState.SKIPPED
        assert target.failure_reason == "Still in a session when its deferral ran out."
        assert fake_fleet.sent == []
        assert campaign.state == CampaignState.COMPLETED


def test_a_charger_deferred_past_its_limit_gets_the_update_anyway_by_default(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        ChargingSession.objects.create(
            charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
        )
        campaign = campaign_create(name="c", image=image, canary_size=0, defer_minutes=60)
        run(campaign_start, campaign=campaign)
        assert CampaignTarget.objects.get().state == TargetState.DEFERRED

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=61))

        target = CampaignTarget.objects.get()
        assert target.state == TargetState.ACCEPTED
        assert len(fake_fleet.sent) == 1
        assert "installs once free" in target.events.order_by("-id")[1].detail


def test_by_default_a_charger_in_a_session_gets_the_update_after_an_hour(
    tenant_a, site_a, image, fake_fleet, run
):
    # A busy fleet is seldom free when a step looks: the default bounds the wait.
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        ChargingSession.objects.create(
            charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
        )
        campaign = campaign_create(name="c", image=image, canary_size=0)
        assert campaign.defer_minutes == 60 and campaign.send_after_deferral
        run(campaign_start, campaign=campaign)
        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=59))
        assert CampaignTarget.objects.get().state == TargetState.DEFERRED

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=61))

        assert CampaignTarget.objects.get().state == TargetState.ACCEPTED
        assert len(fake_fleet.sent) == 1


def test_the_window_is_kept_in_each_sites_time_zone(tenant_a, image, fake_fleet, run):
    with scoping.scope(tenant_a):
        berlin = Site.objects.create(name="Berlin", timezone="Europe/Berlin")
        new_york = Site.objects.create(name="New York", timezone="America/New_York")
        make_chargers(2, site=berlin, prefix="BER-")
        make_chargers(2, site=new_york, prefix="NYC-")
        campaign = campaign_create(
            name="c", image=image, canary_size=0, window_start=time(2), window_end=time(5)
        )
        run(campaign_start, campaign=campaign)
        fake_fleet.sent.clear()
        CampaignTarget.objects.update(state=TargetState.PENDING)

        # 01:30 UTC: 02:30 in Berlin, 20:30 in New York.
        berlin_night = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
        run(campaign_step, campaign_id=campaign.pk, now=berlin_night)
        assert sorted(s.identity for s in fake_fleet.sent) == ["BER-0001", "BER-0002"]

        # 07:30 UTC: 08:30 in Berlin, 02:30 in New York.
        new_york_night = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
        run(campaign_step, campaign_id=campaign.pk, now=new_york_night)
        assert sorted(s.identity for s in fake_fleet.sent)[2:] == ["NYC-0001", "NYC-0002"]


def test_installed_but_booted_on_the_old_version_counts_as_failed(
    tenant_a, site_a, image, fake_fleet, run
):
    fake_fleet.old_version = {"CP-0001"}
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=1)
        with captured(TargetStateChanged) as changes:
            run(campaign_start, campaign=campaign)
            run(fake_fleet.play)
        campaign.refresh_from_db()

        target = CampaignTarget.objects.get()
        assert target.state == TargetState.FAILED
        assert target.last_status == "Installed"
        assert [c.state for c in changes] == [
            "sending",
            "accepted",
            "downloading",
            "downloaded",
            "installing",
            "installed",
            "failed",
        ]
        assert campaign.state == CampaignState.PAUSED  # 1 of 1 failed


def test_a_silent_charger_times_out(tenant_a, site_a, image, fake_fleet, run):
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=0, max_attempts=1, download_timeout_minutes=30
        )
        run(campaign_start, campaign=campaign)
        target = CampaignTarget.objects.get()
        assert target.state == TargetState.ACCEPTED

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=31))

        target.refresh_from_db()
        assert target.state == TargetState.FAILED
        assert target.failure_reason == "Nothing heard from the charger in time while 'accepted'."


@pytest.mark.parametrize(
    ("version", "state", "outcome", "reason"),
    [
        ("2.0.0", TargetState.ACCEPTED, TargetState.SUCCEEDED, ""),
        (
            "1.0.0",
            TargetState.INSTALLED,
            TargetState.FAILED,
            "Reported Installed, waiting for the boot but booted on 1.0.0, not 2.0.0.",
        ),
        (
            "1.0.0",
            TargetState.DOWNLOADING,
            TargetState.FAILED,
            "Nothing heard from the charger in time while 'downloading'.",
        ),
    ],
)
def test_a_boot_whose_notice_was_lost_settles_the_charger_at_the_tick(
    tenant_a, site_a, image, fake_fleet, run, version, state, outcome, reason
):
    # The boot's notice never reached the campaign (a lost task, a process that did not know
    # of the update yet): the charger's row still says it booted after the update went out.
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=1)
        run(campaign_start, campaign=campaign)
        target = CampaignTarget.objects.get()
        CampaignTarget.objects.filter(pk=target.pk).update(state=state)
        charger.firmware_version = version
        charger.last_boot_at = target.dispatched_at + timedelta(minutes=5)
        charger.save(update_fields=["firmware_version", "last_boot_at"])

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(hours=3))

        target.refresh_from_db()
        assert (target.state, target.failure_reason) == (outcome, reason)


def test_a_boot_before_the_update_went_out_does_not_settle_it(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=1)
        run(campaign_start, campaign=campaign)
        target = CampaignTarget.objects.get()
        charger.firmware_version = image.version
        charger.last_boot_at = target.dispatched_at - timedelta(seconds=1)
        charger.save(update_fields=["firmware_version", "last_boot_at"])

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(hours=3))

        assert CampaignTarget.objects.get().state == TargetState.FAILED


def test_a_charger_in_a_session_is_not_timed_out_while_it_waits_to_install(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=1)
        run(campaign_start, campaign=campaign)
        ChargingSession.objects.create(
            charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
        )

        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(hours=3))

        assert CampaignTarget.objects.get().state == TargetState.ACCEPTED


def test_an_update_that_cannot_be_said_fails_the_charger_at_once(
    tenant_a, site_a, image, fake_fleet, run, settings
):
    # OCPP takes a location of at most 512 characters.
    settings.SITE_URL = "https://" + "x" * 500 + ".test"
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=3)
        run(campaign_start, campaign=campaign)

        target = CampaignTarget.objects.get()
        assert target.state == TargetState.FAILED
        assert target.failure_reason.startswith("The update cannot be sent: A firmware location")
        assert fake_fleet.sent == []


def test_an_offline_charger_fails_its_attempt(tenant_a, site_a, image, fake_fleet, run):
    fake_fleet.offline = {"CP-0001"}
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_attempts=1)
        run(campaign_start, campaign=campaign)

        target = CampaignTarget.objects.get()
        assert target.state == TargetState.FAILED
        assert target.failure_reason.startswith("The update was not delivered. Charger offline")


def test_a_restarted_worker_resumes_without_sending_twice(tenant_a, site_a, image, fake_fleet):
    with scoping.scope(tenant_a):
        make_chargers(3, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=0, max_in_flight=2, retry_delay_minutes=0
        )
        # Started, but the worker died before its queued tasks ran: nothing was sent.
        campaign_start(campaign=campaign)
        started = campaign_step(campaign_id=campaign.pk)
        assert len(started) == 2 and fake_fleet.sent == []

        # The tick steps again (twice, as two workers might): nothing more is claimed.
        assert campaign_step(campaign_id=campaign.pk) == []
        assert campaign_step(campaign_id=campaign.pk) == []

        # The dispatch task is delivered twice (acks_late after a crash): one send.
        first, second = started
        target_dispatch(target_id=first, attempt=1)
        target_dispatch(target_id=first, attempt=1)
        assert len(fake_fleet.sent) == 1

        # A worker that died after marking the attempt dispatched and before sending: the
        # attempt is spent, never sent twice; the silence times out and a new attempt goes.
        CampaignTarget.objects.filter(pk=second).update(dispatched_at=timezone.now())
        assert target_dispatch(target_id=second, attempt=1) is None
        assert len(fake_fleet.sent) == 1
        later = timezone.now() + timedelta(minutes=31)
        campaign_step(campaign_id=campaign.pk, now=later)
        retried = CampaignTarget.objects.get(pk=second)
        assert retried.state == TargetState.SENDING and retried.attempt == 2
        target_dispatch(target_id=second, attempt=2)
        target_dispatch(target_id=second, attempt=1)  # the old attempt's task, late
        assert [s.identity for s in fake_fleet.sent] == ["CP-0001", "CP-0002"]


def test_statuses_move_a_target_forward_only_and_name_their_request(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a, start=2)
        campaign = campaign_create(name="c", image=image, canary_size=0)
        run(campaign_start, campaign=campaign)
        target = CampaignTarget.objects.get()

        target_progress(charger_id=charger.pk, stage="downloading", status="Downloading")
        target_progress(
            charger_id=charger.pk, stage="installing", status="Installing", request_id=999
        )  # another request's: not ours
        target_progress(charger_id=charger.pk, stage="accepted", status="DownloadScheduled")
        target.refresh_from_db()
        assert target.state == TargetState.DOWNLOADING
        assert target.last_status == "DownloadScheduled"  # what it said last, kept

        target_booted(charger_id=charger.pk, firmware_version="1.0.0")  # restarted mid-download
        target.refresh_from_db()
        assert target.state == TargetState.DOWNLOADING


def test_a_status_notification_reaches_the_orchestrator_as_a_domain_event(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0)
        run(campaign_start, campaign=campaign)
        with captured(OperationStatusReported) as events:
            run(report, charger.pk, "InstallationFailed")

        assert events[0].stage == "failed" and events[0].operation == "firmware"
        target = CampaignTarget.objects.get()
        assert target.failure_reason == "The charger reported InstallationFailed."


def test_pause_stops_new_starts_and_cancel_ends_the_waiting(
    tenant_a, site_a, image, fake_fleet, run
):
    with scoping.scope(tenant_a):
        make_chargers(4, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_in_flight=1)
        run(campaign_start, campaign=campaign)
        run(campaign_pause, campaign=campaign)
        run(fake_fleet.play)
        assert len(fake_fleet.sent) == 1  # the one in flight finished; nothing new began

        run(campaign_cancel, campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.state == CampaignState.CANCELLED
        assert targets_by_state(campaign) == {
            TargetState.SUCCEEDED: ["CP-0001"],
            TargetState.CANCELLED: ["CP-0002", "CP-0003", "CP-0004"],
        }
        with pytest.raises(ValidationError):
            campaign_resume(campaign=campaign)


def test_a_campaign_freezes_its_targets_when_it_starts(tenant_a, site_a, image, fake_fleet, run):
    with scoping.scope(tenant_a):
        make_chargers(2, site=site_a)
        make_chargers(1, site=site_a, prefix="NEW-", version="2.0.0")  # already updated
        make_chargers(1, site=site_a, prefix="OLD-", version="0.9.0")
        campaign = campaign_create(name="c", image=image, from_versions=["1.0.0"])
        run(campaign_start, campaign=campaign)
        make_chargers(1, site=site_a, prefix="LATE-")  # after the start: not in it

        frozen = sorted(CampaignTarget.objects.values_list("charger__identity", flat=True))
        assert frozen == ["CP-0001", "CP-0002"]


def test_a_campaign_with_no_matching_charger_does_not_start(tenant_a, image):
    with scoping.scope(tenant_a):
        campaign = campaign_create(name="c", image=image)
        with pytest.raises(ValidationError) as refused:
            campaign_start(campaign=campaign)
    assert "image" in refused.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"batch_size": 5, "batch_percent": 10}, "batch_size"),
        ({"window_start": time(1)}, "window_end"),
        ({"failure_threshold_percent": 101}, "failure_threshold_percent"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
def test_a_bad_campaign_is_refused_naming_the_field(tenant_a, image, fields, field):
    with scoping.scope(tenant_a):
        with pytest.raises(ValidationError) as refused:
            campaign_create(name="c", image=image, **fields)
        assert field in refused.value.message_dict
        assert not image.campaigns.exists()


def test_a_signed_image_goes_to_16_chargers_that_speak_the_security_extension_signed(
    tenant_a, site_a, fake_fleet, run, media
):
    with scoping.scope(tenant_a):
        plain, secure = make_chargers(2, site=site_a, start=1, step=2)
        ChargerEvent.objects.create(
            charger=secure,
            kind=EventKind.SECURITY_EVENT,
            summary="StartupOfTheDevice",
            at=timezone.now(),
        )
        image = image_create(
            vendor="Acme",
            model="AC22",
            version="2.0.0",
            file=ContentFile(b"firmware", name="fw.bin"),
            signature="c2lnbmF0dXJl",
            signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        )
        campaign = campaign_create(name="c", image=image, canary_size=0)
        run(campaign_start, campaign=campaign)

    sent = {s.identity: s for s in fake_fleet.sent}
    assert sent[plain.identity].action == "UpdateFirmware"
    assert sent[secure.identity].action == "SignedUpdateFirmware"
    assert sent[secure.identity].payload["firmware"]["signature"] == "c2lnbmF0dXJl"


def test_boots_ask_once_per_tenant_until_an_update_is_answered(
    tenant_a, site_a, image, fake_fleet, run, django_assert_num_queries
):
    def boot(charger):
        listeners.on_boot(ChargerBooted.of(charger, changes={}, previous_boot_at=None))

    with scoping.scope(tenant_a):
        chargers = make_chargers(3, site=site_a)
        with mock.patch.object(listeners, "_queue") as queued:
            with django_assert_num_queries(1):  # a storm of boots, no update anywhere
                for charger in chargers:
                    boot(charger)
            assert not queued.called

            campaign = campaign_create(name="c", image=image, canary_size=1, max_attempts=1)
            run(campaign_start, campaign=campaign)  # the charger's answer is heard here
            updating = CampaignTarget.objects.get(state=TargetState.ACCEPTED).charger
            queued.reset_mock()
            boot(updating)
            queued.assert_called_once()
            assert queued.call_args.kwargs["charger_id"] == updating.pk


def test_session_stops_ask_once_per_tenant_while_nothing_is_deferred(
    tenant_a, site_a, fake_fleet, django_assert_num_queries
):
    with scoping.scope(tenant_a):
        (charger,) = make_chargers(1, site=site_a)
        session = ChargingSession.objects.create(
            charger=charger, evse_id=1, connector_id=1, started_at=timezone.now()
        )
        with mock.patch.object(listeners, "_queue") as queued:
            with django_assert_num_queries(1):
                for _ in range(3):
                    listeners.on_session_stopped(SessionStopped.of(session))
        assert not queued.called
