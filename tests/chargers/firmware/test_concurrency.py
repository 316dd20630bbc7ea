"""Two workers at once (acks_late redelivery, two beat ticks): the row locks let one of them
send an attempt's update, and one of them claim a charger. Run on PostgreSQL with CI=true,
where the locks are row locks; SQLite serialises the writers instead."""

import threading

import pytest
from django.db import connection

from chargers.firmware.models import CampaignTarget, TargetState
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.firmware.services.orchestrator import campaign_step, target_dispatch
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import make_chargers

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(tenant, work, times=4):
    """Run `work()` in `times` threads released together, each in the tenant's scope with its
    own connection; returns their results."""
    barrier = threading.Barrier(times)
    results = []

    def run():
        try:
            with scoping.scope(tenant):
                barrier.wait()
                results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_dispatches_of_one_attempt_send_it_once(tenant_a, site_a, image, fake_fleet):
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0)
        campaign_start(campaign=campaign)
        (target_id,) = campaign_step(campaign_id=campaign.pk)

    results = at_once(tenant_a, lambda: target_dispatch(target_id=target_id, attempt=1))

    assert len([r for r in results if r is not None]) == 1
    assert len(fake_fleet.sent) == 1


def test_concurrent_steps_claim_each_charger_once(tenant_a, site_a, image, fake_fleet):
    with scoping.scope(tenant_a):
        make_chargers(5, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0, max_in_flight=3)
        campaign_start(campaign=campaign)

    results = at_once(tenant_a, lambda: campaign_step(campaign_id=campaign.pk))

    claimed = [target for started in results for target in started]
    assert len(claimed) == len(set(claimed)) == 3
    with scoping.scope(tenant_a):
        sending = CampaignTarget.objects.filter(state=TargetState.SENDING)
        assert set(sending.values_list("attempt", flat=True)) == {1}
