"""The firmware pages in the reader's language: German words and number formats for people,
the progress bars' values and the filters' values as machines read them."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.firmware.models import CampaignTarget, TargetState
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.firmware.services.orchestrator import campaign_step
from cpms.catalogs import compile_catalogs
from cpms.models import ApiKeyRole, User
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import make_chargers
from tests.helpers import eager_tasks


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.fixture
def compiled():
    compile_catalogs()


def speaks(user, language):
    User.objects.filter(pk=user.pk).update(language=language)
    return user


def test_a_german_user_sees_the_firmware_images_in_german_with_german_sizes(
    client_for, alice, image, compiled
):
    shown = client_for(speaks(alice, "de")).get(page("firmware_image_list")).content.decode()

    assert "<h1>Firmware-Images</h1>" in shown and ">Image hochladen</a>" in shown
    assert "(10,0\xa0KB)" in shown and "10.0" not in shown
    assert '<td data-label="Signiert">nein</td>' in shown


def test_an_english_user_sees_the_sizes_as_before(client_for, alice, image, compiled):
    shown = client_for(speaks(alice, "en")).get(page("firmware_image_list")).content.decode()

    assert "<h1>Firmware images</h1>" in shown and "(10.0\xa0KB)" in shown


def test_a_german_campaign_page_keeps_its_progress_values_parseable(
    client_for, alice, tenant_a, site_a, image, compiled
):
    with scoping.scope(tenant_a):
        make_chargers(3, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=1, batch_size=2, defer_minutes=2
        )
        campaign_start(campaign=campaign)
        CampaignTarget.objects.filter(wave__number=0).update(state=TargetState.SUCCEEDED)

    shown = (
        client_for(speaks(alice, "de"))
        .get(page("firmware_campaign_detail", pk=campaign.pk))
        .content.decode()
    )

    canary = re.search(r'<tr data-wave="0">.*?</tr>', shown).group(0)
    assert ">Pilotgruppe <span" in canary and ">Aktualisiert 1</span>" in canary
    assert 'value="100" aria-label="100 % abgeschlossen"' in canary
    assert "warten bis zu 2 Minuten" in shown and "2 Versuche" in shown
    assert 'data-action="pause">Pausieren</button>' in shown


def test_a_german_reader_sees_why_a_charger_failed_in_german_and_the_api_its_code(
    client_for,
    api,
    keys,
    olga,
    tenant_a,
    site_a,
    image,
    fake_fleet,
    compiled,
    django_capture_on_commit_callbacks,
):
    def run(fn, **kwargs):
        with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=0, max_attempts=1, download_timeout_minutes=30
        )
        run(campaign_start, campaign=campaign)
        assert CampaignTarget.objects.get().state == TargetState.ACCEPTED
        run(campaign_step, campaign_id=campaign.pk, now=timezone.now() + timedelta(minutes=31))
        target = CampaignTarget.objects.get()
    assert target.failure_reason == "Nothing heard from the charger in time while 'accepted'."

    shown = client_for(speaks(olga, "de")).get(page("firmware_target_detail", pk=target.pk))
    answer = api(keys[ApiKeyRole.READ_ONLY]).get(f"/api/v1/firmware-targets/{target.pk}/").json()

    german = "Von der Ladestation kam rechtzeitig nichts, während „angenommen“."
    assert german in shown.content.decode()
    assert "Die Ladestation hat das Update angenommen." in shown.content.decode()
    assert answer["failure_reason"] == target.failure_reason
    assert answer["failure_reason_text"] == {
        "code": "firmware.silent",
        "params": {"state": {"word": "Accepted", "lower": True}},
    }
    assert answer["timeline"][-1]["detail_text"]["code"] == "firmware.silent"
