"""Firmware and diagnostics in the REST API: images uploaded with their hash, campaigns created,
started and followed wave by wave, roles from the access table, downloads of uploaded logs,
webhooks, and charlie (tenant B) seeing nothing of tenant A."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chargers.firmware.models import Campaign, CampaignState, DiagnosticsRequest, FirmwareImage
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from cpms.webhooks import webhook_event_types
from tests.chargers.firmware.fleet import FIRMWARE, make_chargers


@pytest.fixture
def admin(api, keys):
    return api(keys[ApiKeyRole.ADMIN])


def test_an_admin_uploads_an_image_and_its_hash_is_computed(admin, tenant_a, media):
    response = admin.post(
        reverse("api:firmware-image-list"),
        {
            "vendor": "Acme",
            "model": "AC22",
            "version": "2.1.0",
            "file": SimpleUploadedFile("ac22.bin", FIRMWARE),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(FIRMWARE).hexdigest()
    assert body["size"] == len(FIRMWARE) and body["has_file"] is True
    assert body["file_name"] == "ac22.bin"
    assert "file" not in body


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "file"),  # neither a file nor a URL
        ({"external_url": "ftp://fw.test/x.bin"}, "external_url"),
        ({"external_url": "https://fw.test/x.bin", "signature": "c2ln"}, "signature"),
    ],
)
def test_a_bad_image_is_refused_naming_the_field(admin, tenant_a, extra, field):
    body = {"vendor": "Acme", "model": "AC22", "version": "2.1.0", **extra}
    response = admin.post(reverse("api:firmware-image-list"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not FirmwareImage.objects.exists()


def test_a_campaign_is_created_started_and_shows_its_waves(admin, tenant_a, site_a, media):
    with scoping.scope(tenant_a):
        make_chargers(10, site=site_a)
        image = FirmwareImage.objects.create(
            vendor="Acme", model="AC22", version="2.0.0", external_url="https://fw.test/2.bin"
        )
    created = admin.post(
        reverse("api:firmware-campaign-list"),
        {
            "name": "Tonight",
            "image": image.pk,
            "sites": [site_a.pk],
            "canary_size": 2,
            "batch_percent": 40,
            "window_start": "01:00",
            "window_end": "05:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]

    started = admin.post(reverse("api:firmware-campaign-start", kwargs={"pk": campaign_id}))

    assert started.status_code == 200, started.content
    body = started.json()
    assert body["state"] == "running"
    assert [(w["number"], w["is_canary"], w["size"]) for w in body["waves"]] == [
        (0, True, 2),
        (1, False, 4),
        (2, False, 4),
    ]
    assert body["counts"] == {"pending": 10}
    targets = admin.get(reverse("api:firmware-target-list"), {"campaign": campaign_id}).json()
    assert len(targets["results"]) == 10
    other = admin.get(reverse("api:firmware-target-list"), {"campaign": campaign_id + 1000})
    assert other.json()["results"] == []


def test_an_action_in_the_wrong_state_is_a_400_naming_the_state(admin, world):
    response = admin.post(
        reverse("api:firmware-campaign-resume", kwargs={"pk": world["running_campaign"].pk})
    )
    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


def test_a_campaign_naming_another_tenants_image_is_refused(api, keys, world):
    response = api(keys["charlie"]).post(
        reverse("api:firmware-campaign-list"),
        {"name": "x", "image": world["firmware_image"].pk},
        format="json",
    )
    assert response.status_code == 400
    assert "image" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("role", "route", "status"),
    [
        (ApiKeyRole.OPERATOR, "firmware-campaign-list", 403),
        (ApiKeyRole.OPERATOR, "firmware-image-list", 403),
        (ApiKeyRole.OPERATOR, "diagnostics-list", 201),
        (ApiKeyRole.READ_ONLY, "diagnostics-list", 403),
    ],
)
def test_admins_run_firmware_and_operators_ask_for_diagnostics(
    api, keys, world, role, route, status
):
    bodies = {
        "firmware-campaign-list": {"name": "x", "image": world["firmware_image"].pk},
        "firmware-image-list": {"vendor": "A", "model": "B", "version": "1", "external_url": ""},
        "diagnostics-list": {"charger": world["charger"].pk},
    }
    response = api(keys[role]).post(reverse(f"api:{route}"), bodies[route], format="json")
    assert response.status_code == status


def test_a_viewer_downloads_an_uploaded_log(api, keys, world):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:diagnostics-download", kwargs={"pk": world["diagnostics"].pk})
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"CP-A log 1\n"
    assert "diagnostics-CP-A.txt" in response["Content-Disposition"]


def test_asking_for_diagnostics_records_the_request(api, keys, world, tenant_a):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        reverse("api:diagnostics-list"), {"charger": world["charger"].pk}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["state"] == "requested"
    with scoping.scope(tenant_a):
        assert DiagnosticsRequest.objects.filter(charger=world["charger"]).count() == 2


DETAILS = [
    ("firmware-image-detail", "firmware_image"),
    ("firmware-campaign-detail", "campaign"),
    ("firmware-campaign-detail", "running_campaign"),
    ("firmware-target-detail", "campaign_target"),
    ("diagnostics-detail", "diagnostics"),
    ("diagnostics-download", "diagnostics"),
]


@pytest.mark.parametrize(("route", "name"), DETAILS)
def test_charlie_gets_404_for_every_campaign_image_and_upload(api, keys, world, route, name):
    response = api(keys["charlie"]).get(reverse(f"api:{route}", kwargs={"pk": world[name].pk}))
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["start", "pause", "resume", "cancel"])
def test_charlie_cannot_act_on_a_campaign_of_tenant_a(api, keys, world, tenant_a, action):
    campaign = world["running_campaign" if action in ("pause", "cancel") else "campaign"]
    response = api(keys["charlie"]).post(
        reverse(f"api:firmware-campaign-{action}", kwargs={"pk": campaign.pk})
    )
    assert response.status_code == 404
    with scoping.scope(tenant_a):
        assert Campaign.objects.get(pk=campaign.pk).state == campaign.state


def test_charlie_lists_none_of_tenant_a(api, keys, world):
    charlie = api(keys["charlie"])
    for route in ("firmware-image-list", "firmware-campaign-list"):
        assert charlie.get(reverse(f"api:{route}")).json()["count"] == 0
    for route in ("firmware-target-list", "diagnostics-list"):
        assert charlie.get(reverse(f"api:{route}")).json()["results"] == []


def test_campaign_and_charger_states_are_webhook_events():
    assert {"firmware.campaign", "firmware.charger", "diagnostics.state"} <= set(
        webhook_event_types()
    )


def test_lists_filter_by_what_they_offer(admin, world):
    running = world["running_campaign"]
    by_state = admin.get(reverse("api:firmware-campaign-list"), {"state": "paused"}).json()
    assert [c["id"] for c in by_state["results"]] == [world["paused_campaign"].pk]
    by_campaign = admin.get(reverse("api:firmware-target-list"), {"campaign": running.pk})
    assert [t["id"] for t in by_campaign.json()["results"]] == [world["campaign_target"].pk]
    none = admin.get(reverse("api:diagnostics-list"), {"charger": world["spare_charger"].pk})
    assert none.json()["results"] == []
    images = admin.get(reverse("api:firmware-image-list"), {"model": "nothing"}).json()
    assert images["count"] == 0


def test_a_running_campaign_reads_as_running(admin, world):
    body = admin.get(
        reverse("api:firmware-campaign-detail", kwargs={"pk": world["running_campaign"].pk})
    ).json()
    assert body["state"] == CampaignState.RUNNING
    assert body["waves"][0]["counts"] == {"downloading": 1}
    timeline = admin.get(
        reverse("api:firmware-target-detail", kwargs={"pk": world["campaign_target"].pk})
    ).json()["timeline"]
    assert [entry["state"] for entry in timeline] == ["downloading"]
