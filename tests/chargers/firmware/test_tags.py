"""Firmware campaigns targeted by charger tag: the tagged chargers of the tenant only, frozen at
the start (the dashboard's form: test_views)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chargers.firmware.models import Campaign, CampaignTarget, FirmwareImage
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.models import Charger
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import make_chargers


def tag(chargers, *tags):
    Charger.objects.filter(pk__in=[c.pk for c in chargers]).update(tags=list(tags))


@pytest.fixture
def fleets(tenant_a, tenant_b, site_a):
    """Tenant A: two depot chargers, one beta, two untagged; tenant B: a depot charger of the
    same model, identity and version (another tenant's fleet with the same tag)."""
    with scoping.scope(tenant_a):
        tag(make_chargers(2, site=site_a, prefix="DEPOT-"), "depot")
        tag(make_chargers(1, site=site_a, prefix="BETA-"), "beta-firmware", "north")
        make_chargers(2, site=site_a, prefix="PLAIN-")
    with scoping.scope(tenant_b):
        tag(make_chargers(1, prefix="DEPOT-"), "depot")


def frozen(tenant, campaign):
    with scoping.scope(tenant):
        return sorted(
            CampaignTarget.objects.filter(campaign=campaign).values_list(
                "charger__identity", flat=True
            )
        )


def test_a_campaign_filtered_by_a_tag_targets_exactly_the_tenants_tagged_chargers(
    tenant_a, fleets, image, fake_fleet, django_capture_on_commit_callbacks
):
    with scoping.scope(tenant_a):
        campaign = campaign_create(name="Depot first", image=image, tags=["depot"])
        campaign_start(campaign=campaign)
        # Tagged after the start: the targets were frozen then.
        Charger.objects.filter(identity="PLAIN-0001").update(tags=["depot"])
    assert frozen(tenant_a, campaign) == ["DEPOT-0001", "DEPOT-0002"]


def test_a_campaign_naming_several_tags_takes_chargers_carrying_any(
    tenant_a, fleets, image, fake_fleet, django_capture_on_commit_callbacks
):
    with scoping.scope(tenant_a):
        campaign = campaign_create(name="c", image=image, tags=["north", "depot"])
        campaign_start(campaign=campaign)
    assert frozen(tenant_a, campaign) == ["BETA-0001", "DEPOT-0001", "DEPOT-0002"]


def test_a_tag_no_charger_of_the_tenant_carries_does_not_start(tenant_a, fleets, image):
    with scoping.scope(tenant_a):
        campaign = campaign_create(name="c", image=image, tags=["nowhere"])
        with pytest.raises(ValidationError):
            campaign_start(campaign=campaign)


def test_a_bad_tag_is_refused_naming_tags(tenant_a, image):
    with scoping.scope(tenant_a):
        with pytest.raises(ValidationError) as refused:
            campaign_create(name="c", image=image, tags=["Not Valid"])
        assert not Campaign.objects.exists()
    assert list(refused.value.message_dict) == ["tags"]


@pytest.fixture
def external_image(tenant_a):
    with scoping.scope(tenant_a):
        return FirmwareImage.objects.create(
            vendor="Acme", model="AC22", version="2.0.0", external_url="https://fw.test/2.bin"
        )


def test_the_api_takes_a_tag_filter_and_refuses_a_bad_one(api, keys, tenant_a, external_image):
    admin = api(keys[ApiKeyRole.ADMIN])
    url = reverse("api:firmware-campaign-list")
    created = admin.post(
        url, {"name": "c", "image": external_image.pk, "tags": ["Depot"]}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["tags"] == ["depot"]

    refused = admin.post(
        url, {"name": "bad", "image": external_image.pk, "tags": ["de pot"]}, format="json"
    )
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["tags"]
    with scoping.scope(tenant_a):
        assert list(Campaign.objects.values_list("name", flat=True)) == ["c"]
