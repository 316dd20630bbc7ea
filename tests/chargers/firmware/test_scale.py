"""A campaign over a large fleet: a step's queries do not grow with the chargers that have
nothing to do (outside their window, deferred in a session, waiting for their retry), and
those chargers do not crowd out the ones that can start."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chargers.firmware.models import Campaign, CampaignTarget, TargetState
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.firmware.services.orchestrator import LOOKAHEAD, campaign_step
from chargers.models import ChargingSession
from cpms.models import Site
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import make_chargers

# 02:30 in Berlin, 20:30 in New York: Berlin's window (02:00-05:00) is open, New York's not.
BERLIN_NIGHT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def busy_fleet(size, *, image, prefix):
    """A started campaign of `size` chargers, half in Berlin and half in New York, where 20
    are updating, every 4th one charges (deferred), every 5th waits for its retry, and the
    rest wait; its wave is open. Returns the campaign."""
    berlin = Site.objects.create(name=f"Berlin {prefix}", timezone="Europe/Berlin")
    new_york = Site.objects.create(name=f"New York {prefix}", timezone="America/New_York")
    chargers = make_chargers(size // 2, site=berlin, prefix=f"{prefix}B-")
    chargers += make_chargers(size - size // 2, site=new_york, prefix=f"{prefix}N-")
    campaign = campaign_create(
        name=f"c {prefix}",
        image=image,
        sites=[berlin, new_york],
        canary_size=0,
        max_in_flight=20,
        window_start=time(2),
        window_end=time(5),
    )
    campaign_start(campaign=campaign)
    campaign_step(campaign_id=campaign.pk, now=BERLIN_NIGHT - timedelta(hours=6))  # opens it
    targets = CampaignTarget.objects.filter(campaign=campaign)
    ids = list(targets.order_by("id").values_list("id", "charger_id"))
    in_session = [charger_id for n, (_, charger_id) in enumerate(ids) if n % 4 == 1]
    ChargingSession.objects.bulk_create(
        ChargingSession(charger_id=charger_id, evse_id=1, connector_id=1, started_at=BERLIN_NIGHT)
        for charger_id in in_session
    )
    targets.filter(charger_id__in=in_session).update(
        state=TargetState.DEFERRED, deferred_since=BERLIN_NIGHT - timedelta(minutes=5)
    )
    retrying = [pk for n, (pk, _) in enumerate(ids) if n % 5 == 2 and n % 4 != 1]
    targets.filter(pk__in=retrying).update(attempt=1, retry_at=BERLIN_NIGHT + timedelta(minutes=5))
    updating = targets.filter(state=TargetState.PENDING, retry_at=None).order_by("id")[:20]
    targets.filter(pk__in=list(updating.values_list("pk", flat=True))).update(
        state=TargetState.DOWNLOADING,
        attempt=1,
        stage_deadline=BERLIN_NIGHT + timedelta(minutes=20),
    )
    return campaign


def queries_of_a_step(campaign, *, room):
    Campaign.objects.filter(pk=campaign.pk).update(max_in_flight=20 + room)
    with CaptureQueriesContext(connection) as captured:
        started = campaign_step(campaign_id=campaign.pk, now=BERLIN_NIGHT)
    return len(captured.captured_queries), started


@pytest.mark.parametrize("room", [0, 10])
def test_a_steps_queries_do_not_grow_with_the_waiting_chargers(tenant_a, image, room):
    # 200 chargers against 1,000: the same queries, whether the step starts none or ten.
    with scoping.scope(tenant_a):
        small = busy_fleet(200, image=image, prefix="S")
        large = busy_fleet(1000, image=image, prefix="L")

        small_queries, small_started = queries_of_a_step(small, room=room)
        large_queries, large_started = queries_of_a_step(large, room=room)

    assert len(small_started) == len(large_started) == room
    assert small_queries == large_queries


def test_started_chargers_are_ones_that_may_start(tenant_a, image):
    with scoping.scope(tenant_a):
        campaign = busy_fleet(200, image=image, prefix="S")
        _, started = queries_of_a_step(campaign, room=10)

        for target in CampaignTarget.objects.filter(pk__in=started).select_related("charger"):
            assert target.charger.site.timezone == "Europe/Berlin"
            assert not ChargingSession.objects.filter(charger=target.charger).exists()
            assert target.attempt == 1 and target.retry_at is None  # none was waiting to retry


def test_chargers_that_can_start_are_not_crowded_out_by_deferred_ones(tenant_a, site_a, image):
    with scoping.scope(tenant_a):
        busy = make_chargers(LOOKAHEAD + 50, site=site_a)
        free = make_chargers(3, site=site_a, start=LOOKAHEAD + 51)
        ChargingSession.objects.bulk_create(
            ChargingSession(charger=charger, evse_id=1, connector_id=1, started_at=BERLIN_NIGHT)
            for charger in busy
        )
        campaign = campaign_create(
            name="c", image=image, canary_size=0, max_in_flight=10, defer_minutes=None
        )
        campaign_start(campaign=campaign)
        # The first steps defer the chargers in a session as they come to them.
        for _ in range(3):
            campaign_step(campaign_id=campaign.pk)

        started = CampaignTarget.objects.filter(campaign=campaign, state=TargetState.SENDING)
        assert sorted(t.charger_id for t in started) == sorted(c.pk for c in free)
        assert not started.filter(charger__in=busy).exists()


def test_steps_asked_for_before_one_runs_are_one_step(tenant_a, site_a, image, monkeypatch):
    from django.core.cache import cache

    from chargers.firmware import tasks
    from chargers.firmware.services import campaigns

    queued = []
    monkeypatch.setattr(tasks.step_campaign, "delay", lambda **kwargs: queued.append(kwargs))
    with scoping.scope(tenant_a):
        make_chargers(2, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0)
        cache.delete(campaigns._step_mark(campaign.pk))

        # A wave's chargers finishing at once: one step queued.
        for _ in range(5):
            campaigns.queue_step(tenant_a.pk, campaign.pk)
        assert len(queued) == 1

        # Once that step began, the next change queues the next one.
        tasks.step_campaign.run(**queued[0])
        campaigns.queue_step(tenant_a.pk, campaign.pk)
    assert len(queued) == 2
