"""The simulator's own upload (chargers/simulator/uploads.py, what simulated chargers do on
GetDiagnostics and GetLog) against this server's upload URL, over real HTTP."""

import pytest

from chargers.firmware.models import DiagnosticsState
from chargers.firmware.services.diagnostics import diagnostics_dispatch, diagnostics_request
from chargers.models import Charger, OcppVersion
from chargers.simulator import uploads
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import upload_path_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def issued(live_server, settings, tenant_a, fake_fleet, media):
    """A 2.0.1 charger asked for its log: (the request, the upload URL it was given)."""
    settings.SITE_URL = live_server.url
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="SIM-LOG", ocpp_version=OcppVersion.V201)
        request = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=request.pk)
    return request, upload_path_of(fake_fleet)  # already the live server's URL


def test_a_simulated_chargers_upload_arrives_on_its_request(issued, tenant_a):
    request, url = issued

    assert uploads.upload(url, "log-SIM-LOG.txt", b"simulated log\n", timeout=10)

    with scoping.scope(tenant_a):
        request.refresh_from_db()
        assert request.state == DiagnosticsState.UPLOADED
        assert request.charger.identity == "SIM-LOG"
        assert request.file_name == "log-SIM-LOG.txt"
        assert request.file.read() == b"simulated log\n"


def test_the_same_url_takes_no_second_upload(issued):
    _, url = issued
    assert uploads.upload(url, "log.txt", b"first\n", timeout=10)

    assert not uploads.upload(url, "log.txt", b"second\n", timeout=10)


def test_the_url_does_not_work_under_another_tenant(issued, tenant_b):
    _, url = issued
    assert not uploads.upload(url.replace("/tenant-a/", "/tenant-b/"), "x.txt", b"x", timeout=10)
