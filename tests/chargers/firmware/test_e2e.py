"""A campaign over real OCPP: simulated chargers (chargers/simulator) connected to the server
(served in this process, so that Celery runs eagerly beside it), the orchestrator hearing them
through the charger domain's events. The chargers fetch the image from its signed link (served
over real HTTP by `live_server`). The 1.6 charger is updated; the 2.0.1 one reports Installed
but boots on the old version, and counts as failed."""

import pytest
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile

from chargers.firmware.models import Campaign, CampaignState, CampaignTarget, TargetState
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.firmware.services.images import image_create
from chargers.simulator import downloads as simulator_downloads
from cpms.tenancy import scoping
from tests.aio import PATIENCE, eventually
from tests.chargers.firmware.fleet import FIRMWARE
from tests.chargers.simulator.helpers import fleet, register, simulated, wait_until_offline
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)

# The chargers download what they are sent and upload their diagnostics for real.
TRANSFERS = {"connectors": 1, "download_firmware": True, "upload_timeout": PATIENCE}


@pytest.fixture
def registered(tenant_a, media, live_server, settings):
    settings.SITE_URL = live_server.url
    register(tenant_a, "SIM-0001", "SIM-0002")
    yield
    wait_until_offline(tenant_a)


@sync_to_async
def start(tenant):
    with scoping.scope(tenant):
        image = image_create(
            vendor="CPMS-Sim",
            model="SimCharger AC22",
            version="2.0.0",
            file=ContentFile(FIRMWARE, name="sim-2.0.0.bin"),
        )
        campaign = campaign_create(name="e2e", image=image, canary_size=0, max_attempts=1)
        campaign_start(campaign=campaign)
        return campaign.pk


def finished(tenant, campaign_id):
    @sync_to_async
    def check():
        with scoping.scope(tenant):
            campaign = Campaign.objects.get(pk=campaign_id)
            return campaign.state in (CampaignState.COMPLETED, CampaignState.PAUSED)

    return check


@sync_to_async
def outcome(tenant, campaign_id):
    with scoping.scope(tenant):
        rows = CampaignTarget.objects.filter(campaign_id=campaign_id)
        return {t.charger.identity: (t.state, t.failure_reason) for t in rows}


async def test_a_campaign_updates_a_real_16_charger_and_fails_a_stale_201_one(
    ocpp_server_in_process, registered, tenant_a, monkeypatch
):
    downloads = []
    real_download = simulator_downloads.download

    def counted(location, timeout):
        size = real_download(location, timeout)
        downloads.append(size)
        return size

    monkeypatch.setattr(simulator_downloads, "download", counted)
    updated = simulated(ocpp_server_in_process, "SIM-0001", "1.6", **TRANSFERS)
    stale = simulated(
        ocpp_server_in_process, "SIM-0002", "2.0.1", firmware_stale_rate=1.0, **TRANSFERS
    )
    with eager_tasks():
        async with fleet(updated, stale):
            campaign_id = await start(tenant_a)
            await eventually(finished(tenant_a, campaign_id), what="the campaign's end")

    assert updated.firmware_version == "2.0.0"
    assert stale.firmware_version == "1.0.0"
    assert downloads == [len(FIRMWARE), len(FIRMWARE)]
    assert await outcome(tenant_a, campaign_id) == {
        "SIM-0001": (TargetState.SUCCEEDED, ""),
        "SIM-0002": (
            TargetState.FAILED,
            "Reported InstallRebooting but booted on 1.0.0, not 2.0.0.",
        ),
    }
