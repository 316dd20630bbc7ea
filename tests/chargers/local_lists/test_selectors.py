"""Which chargers are due a sync: worked out per policy, not per charger or token."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chargers.local_lists import selectors
from chargers.local_lists.entries import digest
from chargers.local_lists.models import ChargerLocalList
from chargers.local_lists.services.policies import local_list_policy_set
from chargers.models import Charger, IdToken
from cpms.tenancy import scoping


@pytest.fixture
def fleet(tenant_a, site_a, policy):
    """Forty connected chargers that hold their policy's list, and one that drifted."""
    with scoping.scope(tenant_a):
        chargers = Charger.objects.bulk_create(
            Charger(identity=f"CP-{n:03d}", site=site_a, is_online=True, ocpp_version="1.6")
            for n in range(41)
        )
        wanted = selectors.desired_for(chargers[0])
        ChargerLocalList.objects.bulk_create(
            ChargerLocalList(
                charger=charger,
                supported=True,
                version=1,
                reported_version=1,
                needs_full=False,
                entries=wanted,
                entries_hash=digest(wanted),
            )
            for charger in chargers
        )
        ChargerLocalList.objects.filter(charger=chargers[-1]).update(needs_full=True)
    return chargers


def test_chargers_in_sync_are_skipped_in_a_few_queries(
    tenant_a, fleet, django_assert_max_num_queries
):
    with scoping.scope(tenant_a), django_assert_max_num_queries(5):
        due = selectors.chargers_due()

    assert due == [fleet[-1].pk]


def test_a_blocked_token_makes_every_charger_under_the_policy_due(tenant_a, tokens, fleet):
    with scoping.scope(tenant_a):
        IdToken.objects.filter(uid="04B1").update(blocked=True)

        assert len(selectors.chargers_due()) == len(fleet)


def test_an_expired_token_makes_them_due_once_it_has_expired(tenant_a, tokens, fleet):
    soon = timezone.now() + timedelta(minutes=5)
    with scoping.scope(tenant_a):
        IdToken.objects.filter(uid="04B1").update(expires_at=soon)
        # The expiry date itself is on the list: the chargers are due at once, and again
        # when the token's status turns Expired.
        assert len(selectors.chargers_due()) == len(fleet)


def test_a_site_whose_policy_is_off_is_left_alone(tenant_a, site_a, fleet):
    with scoping.scope(tenant_a):
        local_list_policy_set(site=site_a, mode="off")

        assert selectors.chargers_due() == []


def test_the_groups_mode_lists_the_groups_and_their_members_only(tenant_a, site_a, tokens):
    with scoping.scope(tenant_a):
        local_list_policy_set(mode="groups", groups=[tokens["fleet"]])
        charger = Charger.objects.create(identity="CP-G", site=site_a)

        assert set(selectors.desired_for(charger)) == {"FLEET-1", "04A1", "04A2"}
