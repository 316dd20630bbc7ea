"""The firmware pages: an admin uploads an image and runs a campaign from the dashboard, its
waves and chargers show their progress, operators request diagnostics on a charger's page and
download the file; the role matrix itself is tests/cpms/test_pages.py's."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chargers.firmware.models import (
    Campaign,
    CampaignState,
    CampaignTarget,
    DiagnosticsRequest,
    FirmwareImage,
    TargetState,
)
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.models import Charger
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import FIRMWARE, make_chargers


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_an_admin_uploads_an_image_from_the_dashboard(client_for, alice, tenant_a, media):
    response = client_for(alice).post(
        page("firmware_image_create"),
        {
            "vendor": "Acme",
            "model": "AC22",
            "version": "2.0.0",
            "file": SimpleUploadedFile("ac22.bin", FIRMWARE),
        },
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        image = FirmwareImage.objects.get()
    assert image.sha256 == hashlib.sha256(FIRMWARE).hexdigest()
    listing = client_for(alice).get(page("firmware_image_list")).content.decode()
    assert image.sha256 in listing


def test_an_image_without_a_file_or_url_is_a_form_error(client_for, alice, tenant_a):
    response = client_for(alice).post(
        page("firmware_image_create"), {"vendor": "Acme", "model": "AC22", "version": "2"}
    )

    assert response.status_code == 200
    assert "Give either a file or an external URL" in response.content.decode()
    with scoping.scope(tenant_a):
        assert not FirmwareImage.objects.exists()


@pytest.fixture
def image(tenant_a):
    with scoping.scope(tenant_a):
        return FirmwareImage.objects.create(
            vendor="Acme", model="AC22", version="2.0.0", external_url="https://fw.test/2.bin"
        )


def test_an_admin_creates_starts_and_pauses_a_campaign(client_for, alice, tenant_a, site_a, image):
    with scoping.scope(tenant_a):
        make_chargers(6, site=site_a)
        Charger.objects.update(tags=["depot"])
        make_chargers(1, site=site_a, prefix="UNTAGGED-")
    admin = client_for(alice)

    created = admin.post(
        page("firmware_campaign_create"),
        {
            "name": "Tonight",
            "image": image.pk,
            "canary_size": 2,
            "batch_size": 2,
            "max_in_flight": 10,
            "failure_threshold_percent": 10,
            "download_timeout_minutes": 30,
            "install_timeout_minutes": 30,
            "boot_timeout_minutes": 15,
            "max_attempts": 2,
            "from_versions": "1.0.0, 0.9",
            "tags": "Depot, beta-firmware",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    with scoping.scope(tenant_a):
        campaign = Campaign.objects.get()
    assert campaign.from_versions == ["1.0.0", "0.9"]
    assert campaign.tags == ["depot", "beta-firmware"]
    draft = admin.get(page("firmware_campaign_detail", pk=campaign.pk)).content.decode()
    assert "6 match the filter now" in draft

    admin.post(page("firmware_campaign_action", pk=campaign.pk), {"action": "start"})
    shown = admin.get(page("firmware_campaign_detail", pk=campaign.pk)).content.decode()
    assert "Canary" in shown and shown.count('data-wave="') == 3
    assert shown.count('data-target="') == 6

    admin.post(page("firmware_campaign_action", pk=campaign.pk), {"action": "pause"})
    with scoping.scope(tenant_a):
        campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    listing = admin.get(page("firmware_campaign_list")).content.decode()
    assert "Paused by an operator." in listing


def test_the_waves_name_states_as_the_chargers_table_does(
    client_for, alice, tenant_a, site_a, image
):
    with scoping.scope(tenant_a):
        make_chargers(3, site=site_a)
        campaign = campaign_create(
            name="c", image=image, canary_size=1, batch_size=2, defer_minutes=1
        )
        campaign_start(campaign=campaign)
        CampaignTarget.objects.filter(wave__number=0).update(state=TargetState.SUCCEEDED)

    shown = client_for(alice).get(page("firmware_campaign_detail", pk=campaign.pk)).content.decode()

    waiting = re.search(r'<tr data-wave="1">.*?</tr>', shown).group(0)
    assert ">Waiting</span>" in waiting and ">Waiting 2</span>" in waiting
    assert ">Updated 1</span>" in re.search(r'<tr data-wave="0">.*?</tr>', shown).group(0)
    assert ">Pending" not in shown and ">Succeeded" not in shown
    assert "wait up to 1 minute, then" in shown


def test_an_action_the_state_does_not_allow_changes_nothing(client_for, alice, tenant_a, image):
    with scoping.scope(tenant_a):
        campaign = campaign_create(name="c", image=image)
    response = client_for(alice).post(
        page("firmware_campaign_action", pk=campaign.pk), {"action": "resume"}, follow=True
    )
    assert "Only a paused campaign can resume." in response.content.decode()
    with scoping.scope(tenant_a):
        campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_a_chargers_timeline_shows_why_it_failed(client_for, bob, world):
    with scoping.scope(world["campaign_target"].tenant):
        CampaignTarget.objects.filter(pk=world["campaign_target"].pk).update(
            failure_reason="Reported Installed but booted on 1.0.0, not 2.0.0."
        )
    shown = (
        client_for(bob)
        .get(page("firmware_target_detail", pk=world["campaign_target"].pk))
        .content.decode()
    )
    assert "Reported Installed but booted on 1.0.0, not 2.0.0." in shown
    assert "Downloading" in shown


def test_an_operator_requests_diagnostics_and_a_viewer_cannot(
    client_for, olga, bob, tenant_a, world
):
    charger = world["charger"]
    assert client_for(bob).post(page("charger_diagnostics", pk=charger.pk)).status_code == 403
    response = client_for(olga).post(page("charger_diagnostics", pk=charger.pk))

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert DiagnosticsRequest.objects.filter(charger=charger).count() == 2


def test_the_charger_page_lists_its_diagnostics_and_the_file_downloads(client_for, bob, world):
    viewer = client_for(bob)
    charger_page = viewer.get(page("charger_detail", pk=world["charger"].pk)).content.decode()
    assert "diagnostics-CP-A.txt" in charger_page

    response = viewer.get(page("diagnostics_file", pk=world["diagnostics"].pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"CP-A log 1\n"


def test_the_charger_page_shows_its_latest_firmware_update(client_for, bob, world):
    target = world["campaign_target"]
    shown = client_for(bob).get(page("charger_detail", pk=target.charger_id)).content.decode()
    assert "Rollout A" in shown and "1.0.0 → 2.0.0" in shown and "Downloading" in shown


def test_the_outdated_page_counts_chargers_per_model(client_for, bob, world, tenant_a):
    with scoping.scope(tenant_a):
        Charger.objects.create(identity="CP-OLD", vendor="Acme", model="AC22", firmware_version="")
    shown = client_for(bob).get(page("firmware_outdated")).content.decode()
    # 2.0.0 is the latest (1.9.0 was added after it, but is lower); CP-A-FW (1.0.0) and
    # CP-OLD (no version reported) run something else.
    assert "Acme AC22" in shown
    assert '<td data-label="Latest">2.0.0</td>' in shown
    assert "1.0.0: 1</a>" in shown and "unknown: 1" in shown


def test_the_outdated_page_links_each_version_behind_to_its_chargers(
    client_for, bob, world, tenant_a
):
    # The model's chargers on the latest version are not behind: the link leaves them out.
    with scoping.scope(tenant_a):
        Charger.objects.create(
            identity="CP-NEW", vendor="Acme", model="AC22", firmware_version="2.0.0"
        )
    viewer = client_for(bob)
    shown = viewer.get(page("firmware_outdated")).content.decode()

    link = re.search(r'<a href="([^"]+)">1.0.0: 1</a>', shown).group(1).replace("&amp;", "&")
    listed = viewer.get(link).content.decode()

    assert "CP-A-FW" in listed and "CP-NEW" not in listed


@pytest.fixture
def reported(tenant_a, site_a):
    """report(status, booted_after=False): a charger that reported `status` as its firmware
    status (a charger event and its row), and booted after that when `booted_after`."""
    from datetime import timedelta

    from django.utils import timezone

    from chargers.models import ChargerEvent, EventKind

    def report(status, *, booted_after=False):
        now = timezone.now()
        with scoping.scope(tenant_a):
            charger = Charger.objects.create(
                identity=f"CP-FW-{status}",
                site=site_a,
                firmware_version="1.0.0",
                firmware_status=status,
                last_boot_at=now + timedelta(minutes=1) if booted_after else now - timedelta(1),
            )
            ChargerEvent.objects.create(
                charger=charger, kind=EventKind.FIRMWARE_STATUS, summary=status, at=now
            )
        return charger

    return report


def firmware_line(client, charger):
    shown = client.get(page("charger_detail", pk=charger.pk)).content.decode()
    found = re.search(r"<span[^>]*data-firmware-status>([^<]*)</span>", shown)
    return found.group(0) if found else ""


def test_the_charger_page_shows_the_firmware_status_while_an_update_is_under_way(
    client_for, bob, reported
):
    line = firmware_line(client_for(bob), reported("Downloading"))
    assert "(Downloading)" in line and "muted" not in line


@pytest.mark.parametrize(
    ("status", "booted_after"), [("Installed", True), ("DownloadFailed", False)]
)
def test_the_charger_page_marks_an_ended_updates_status_as_past(
    client_for, bob, reported, status, booted_after
):
    line = firmware_line(client_for(bob), reported(status, booted_after=booted_after))
    assert f"last update: {status}" in line and "muted" in line


def test_the_charger_page_says_nothing_of_an_idle_firmware_status(client_for, bob, reported):
    assert firmware_line(client_for(bob), reported("Idle")) == ""
