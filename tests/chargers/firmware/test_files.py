"""The URLs chargers call: a firmware download signed per charger and campaign, with byte
ranges; a diagnostics upload with a one-time token, by PUT or POST, within a size limit."""

import hashlib
from datetime import timedelta

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chargers.firmware import links
from chargers.firmware.files import Unsatisfiable, byte_range
from chargers.firmware.models import (
    CampaignTarget,
    DiagnosticsRequest,
    DiagnosticsState,
    TargetState,
)
from chargers.firmware.services.campaigns import campaign_create, campaign_start
from chargers.firmware.services.diagnostics import (
    UploadRefused,
    diagnostics_command_finished,
    diagnostics_delete_expired,
    diagnostics_dispatch,
    diagnostics_progress,
    diagnostics_receive,
    diagnostics_request,
)
from chargers.firmware.services.images import image_create
from chargers.firmware.services.orchestrator import campaign_step, target_dispatch
from chargers.models import Charger, ChargerEvent, CommandStatus, EventKind, OcppVersion
from chargers.services.commands import command_create, command_finish
from cpms.tenancy import scoping
from tests.chargers.firmware.fleet import FIRMWARE, make_chargers, upload_path_of


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-1,5-9", None),  # several ranges: the whole file
        ("items=0-5", None),
        ("bytes=-", None),
    ],
)
def test_it_reads_a_single_byte_range(header, expected):
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", "bytes=9-3"])
def test_a_range_past_the_end_cannot_be_satisfied(header):
    with pytest.raises(Unsatisfiable):
        byte_range(header, 1000)


@pytest.fixture
def started(tenant_a, site_a, image, fake_fleet):
    with scoping.scope(tenant_a):
        make_chargers(1, site=site_a)
        campaign = campaign_create(name="c", image=image, canary_size=0)
        campaign_start(campaign=campaign)
        (target_id,) = campaign_step(campaign_id=campaign.pk)
        target_dispatch(target_id=target_id, attempt=1)
        return CampaignTarget.objects.select_related("campaign__image").get()


def download_url(target, image=None):
    grant = links.DownloadGrant(
        tenant_id=target.tenant_id,
        target_id=target.pk,
        charger_id=target.charger_id,
        image_id=(image or target.campaign.image).pk,
    )
    return links.download_url(grant, "ac22-2.0.0.bin").removeprefix("http://127.0.0.1:8000")


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_charger_downloads_its_image_with_no_login(client, started):
    response = client.get(download_url(started))

    assert response.status_code == 200
    assert body(response) == FIRMWARE
    assert response["Accept-Ranges"] == "bytes"
    assert response["Digest"] == f"sha-256={hashlib.sha256(FIRMWARE).hexdigest()}"


def test_a_charger_resumes_a_download_with_a_range(client, started):
    response = client.get(download_url(started), HTTP_RANGE="bytes=100-199")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(FIRMWARE)}"
    assert body(response) == FIRMWARE[100:200]


def test_a_range_past_the_end_gets_416(client, started):
    response = client.get(download_url(started), HTTP_RANGE=f"bytes={len(FIRMWARE)}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(FIRMWARE)}"


def test_the_dispatched_update_names_the_signed_url(started, fake_fleet):
    (sent,) = fake_fleet.sent
    location = sent.payload["location"]
    assert location.startswith("http://127.0.0.1:8000/charger-files/firmware/")
    assert location.endswith("/ac22-2.0.0.bin")


@pytest.mark.parametrize("state", [TargetState.SUCCEEDED, TargetState.FAILED, TargetState.PENDING])
def test_a_link_stops_working_once_its_update_ended(client, tenant_a, started, state):
    assert client.get(download_url(started)).status_code == 200
    with scoping.scope(tenant_a):
        CampaignTarget.objects.filter(pk=started.pk).update(state=state)
    assert client.get(download_url(started)).status_code == 404


def test_a_forged_or_altered_link_gets_404(client, started):
    url = download_url(started)
    token = url.split("/")[3]
    forged = signing.dumps([started.tenant_id, started.pk, started.charger_id, 1], salt="other")

    assert client.get(url.replace(token, token[:-2] + "xx")).status_code == 404
    assert client.get(url.replace(token, forged)).status_code == 404


def test_an_expired_link_gets_404(client, started, settings):
    settings.FIRMWARE_DOWNLOAD_LINK_HOURS = 0
    assert client.get(download_url(started)).status_code == 404


def test_a_link_for_another_tenants_image_gets_404(client, started, tenant_b, media):
    # A link signed for tenant B's image id and tenant A's target does not serve either.
    with scoping.scope(tenant_b):
        theirs = image_create(
            vendor="Acme",
            model="AC22",
            version="9.9.9",
            file=SimpleUploadedFile("x.bin", b"secret of tenant B"),
        )
    assert client.get(download_url(started, image=theirs)).status_code == 404
    grant = links.DownloadGrant(
        tenant_b.pk, started.pk, started.charger_id, started.campaign.image_id
    )
    url = links.download_url(grant, "x.bin").removeprefix("http://127.0.0.1:8000")
    assert client.get(url).status_code == 404


# --- Diagnostics uploads -------------------------------------------------------------------------


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return Charger.objects.create(identity="CP-LOG", site=site_a, ocpp_version=OcppVersion.V16)


@pytest.fixture
def requested(tenant_a, charger, fake_fleet, media, alice):
    """A diagnostics request dispatched to the charger: (request, its upload path)."""
    with scoping.scope(tenant_a):
        request = diagnostics_request(charger=charger, requested_by=alice)
        diagnostics_dispatch(request_id=request.pk)
        request.refresh_from_db()
    return request, upload_path_of(fake_fleet)


def test_the_charger_is_asked_to_upload_to_a_one_time_url(requested, fake_fleet):
    request, path = requested
    assert path.startswith("/charger-files/uploads/tenant-a/")
    assert request.state == DiagnosticsState.ACCEPTED
    assert not request.token_hash.startswith("pending")
    # The token itself is nowhere in the row.
    assert path.split("/")[4] not in request.token_hash


def test_an_upload_by_post_is_kept_on_the_request(client, tenant_a, requested):
    request, path = requested
    response = client.generic(
        "POST",
        path,
        b"log line 1\n",
        content_type="text/plain",
        HTTP_CONTENT_DISPOSITION='attachment; filename="diag-CP-LOG.txt"',
    )

    assert response.status_code == 201
    with scoping.scope(tenant_a):
        request.refresh_from_db()
        assert request.state == DiagnosticsState.UPLOADED
        assert request.file_name == "diag-CP-LOG.txt"
        assert request.size == 11
        assert request.sha256 == hashlib.sha256(b"log line 1\n").hexdigest()
        assert request.file.read() == b"log line 1\n"
        assert request.keep_until > timezone.now() + timedelta(days=29)


def test_an_upload_by_put_to_the_url_and_a_file_name_works(client, tenant_a, requested):
    request, path = requested
    response = client.put(path + "diag.txt", b"put body", content_type="text/plain")

    assert response.status_code == 201
    with scoping.scope(tenant_a):
        request.refresh_from_db()
    assert request.file_name == "diag.txt" and request.size == 8


def test_a_multipart_upload_works(client, tenant_a, requested):
    request, path = requested
    response = client.post(path, {"file": SimpleUploadedFile("form.log", b"multipart")})

    assert response.status_code == 201
    with scoping.scope(tenant_a):
        request.refresh_from_db()
    assert request.file_name == "form.log" and request.size == 9


def test_a_token_cannot_be_used_twice(client, requested):
    _, path = requested
    assert client.put(path, b"first", content_type="text/plain").status_code == 201

    again = client.put(path, b"second", content_type="text/plain")

    assert again.status_code == 410


def test_a_token_cannot_be_used_for_another_tenant(client, requested, tenant_b):
    _, path = requested
    response = client.put(path.replace("/tenant-a/", "/tenant-b/"), b"x", content_type="text/plain")
    assert response.status_code == 404


def test_an_unknown_or_expired_token_is_refused(client, tenant_a, requested):
    request, path = requested
    assert client.put(path[:-3] + "zz/", b"x", content_type="text/plain").status_code == 404
    with scoping.scope(tenant_a):
        DiagnosticsRequest.objects.filter(pk=request.pk).update(
            token_expires_at=timezone.now() - timedelta(seconds=1)
        )
    assert client.put(path, b"x", content_type="text/plain").status_code == 410


def test_a_file_over_the_limit_is_refused_and_nothing_kept(client, tenant_a, requested, settings):
    settings.DIAGNOSTICS_MAX_UPLOAD_BYTES = 10
    request, path = requested

    response = client.put(path, b"x" * 11, content_type="text/plain")

    assert response.status_code == 413
    with scoping.scope(tenant_a):
        request.refresh_from_db()
    assert request.state == DiagnosticsState.ACCEPTED and not request.file
    # The token still works for a file within the limit.
    assert client.put(path, b"x" * 10, content_type="text/plain").status_code == 201


def test_nothing_is_read_for_a_used_token(tenant_a, requested):
    request, path = requested
    token = path.split("/")[4]
    with scoping.scope(tenant_a):
        DiagnosticsRequest.objects.filter(pk=request.pk).update(token_used_at=timezone.now())

    class Unread:
        def read(self, size=-1):
            raise AssertionError("the body was read")

    with pytest.raises(UploadRefused) as refused:
        diagnostics_receive(
            tenant_slug="tenant-a", token=token, file_name="x", stream=Unread(), declared_size=None
        )
    assert refused.value.status == 410


def test_a_charger_get_is_not_an_upload(client, requested):
    _, path = requested
    assert client.get(path).status_code == 405


def test_a_failed_upload_of_a_16_charger_says_the_server_takes_http(tenant_a, charger, requested):
    request, _ = requested
    with scoping.scope(tenant_a):
        diagnostics_progress(charger_id=charger.pk, stage="uploading", status="Uploading")
        request.refresh_from_db()
        assert request.state == DiagnosticsState.UPLOADING
        diagnostics_progress(charger_id=charger.pk, stage="failed", status="UploadFailed")
        request.refresh_from_db()
    assert request.state == DiagnosticsState.FAILED
    assert "accepts diagnostics over HTTP(S) only" in request.error
    assert "FTP" in request.error


def test_a_request_to_an_offline_charger_fails_at_once(tenant_a, charger, fake_fleet, media):
    fake_fleet.offline = {"CP-LOG"}
    with scoping.scope(tenant_a):
        request = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=request.pk)
        assert diagnostics_dispatch(request_id=request.pk) is None  # once per request
        request.refresh_from_db()
    assert request.state == DiagnosticsState.FAILED
    assert request.error.startswith("The request did not reach the charger (Charger offline)")
    assert "FTP" not in request.error  # an offline charger is no FTP question
    assert len(fake_fleet.sent) == 1


def test_files_past_their_retention_are_deleted(client, tenant_a, requested):
    request, path = requested
    client.put(path, b"old log", content_type="text/plain")
    with scoping.scope(tenant_a):
        request.refresh_from_db()
        assert diagnostics_delete_expired() == 0
        assert diagnostics_delete_expired(now=timezone.now() + timedelta(days=31)) == 1
        request.refresh_from_db()
    assert not request.file
    assert "retention" in request.error


def test_a_201_log_status_names_its_request(tenant_a, site_a, fake_fleet, media):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-201", ocpp_version=OcppVersion.V201)
        first = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=first.pk)
        second = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=second.pk)
        first.refresh_from_db()

        diagnostics_progress(
            charger_id=charger.pk,
            stage="failed",
            status="UploadFailure",
            request_id=first.request_id,
        )

        first.refresh_from_db()
        second.refresh_from_db()
    assert first.state == DiagnosticsState.FAILED and "HTTP(S) only" not in first.error
    assert second.state == DiagnosticsState.ACCEPTED


@pytest.mark.parametrize(
    ("status", "hinted"),
    [
        ("UploadFailed", True),  # 1.6: tried and could not (an FTP-only charger does this)
        ("NotSupportedOperation", True),  # the security extension: the protocol is not
        ("BadMessage", True),
        ("PermissionDenied", False),
    ],
)
def test_the_http_hint_comes_with_failures_about_the_protocol_only(
    tenant_a, charger, requested, status, hinted
):
    request, _ = requested
    with scoping.scope(tenant_a):
        diagnostics_progress(charger_id=charger.pk, stage="failed", status=status)
        request.refresh_from_db()
    assert request.state == DiagnosticsState.FAILED
    assert ("accepts diagnostics over HTTP(S) only" in request.error) is hinted


def answered(charger, **outcome):
    """A diagnostics request whose GetDiagnostics the charger answered with `outcome`."""
    request = diagnostics_request(charger=charger)
    command = command_create(
        charger=charger, action="GetDiagnostics", payload={}, source="diagnostics"
    )
    DiagnosticsRequest.objects.filter(pk=request.pk).update(command=command)
    command_finish(command_id=command.pk, **outcome)
    diagnostics_command_finished(command_id=command.pk)
    request.refresh_from_db()
    return request


def test_a_16_charger_with_nothing_to_upload_gets_no_ftp_hint(tenant_a, charger, media):
    with scoping.scope(tenant_a):
        request = answered(charger, status=CommandStatus.ANSWERED, response={})
    assert request.error.startswith("The charger has no diagnostics to upload")
    assert "FTP" not in request.error


def test_a_charger_that_names_ftp_in_its_error_is_told_http_is_taken(tenant_a, charger, media):
    with scoping.scope(tenant_a):
        request = answered(
            charger,
            status=CommandStatus.CALL_ERROR,
            error="NotSupported: only ftp:// locations are supported",
        )
    assert request.state == DiagnosticsState.FAILED
    assert "accepts diagnostics over HTTP(S) only" in request.error


def test_a_16_charger_with_the_security_extension_is_asked_by_getlog(
    tenant_a, charger, fake_fleet, media
):
    with scoping.scope(tenant_a):
        ChargerEvent.objects.create(
            charger=charger, kind=EventKind.SECURITY_EVENT, at=timezone.now()
        )
        first = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=first.pk)
        second = diagnostics_request(charger=charger)
        diagnostics_dispatch(request_id=second.pk)
        first.refresh_from_db()

        sent = fake_fleet.sent[0]
        assert sent.action == "GetLog"
        assert sent.payload["requestId"] == first.request_id
        assert sent.payload["log"]["remoteLocation"].startswith("http://127.0.0.1:8000/")
        # Its LogStatusNotification names the request: the older one is found, not the latest.
        diagnostics_progress(
            charger_id=charger.pk,
            stage="uploading",
            status="Uploading",
            request_id=first.request_id,
        )
        first.refresh_from_db()
        second.refresh_from_db()
    assert first.state == DiagnosticsState.UPLOADING
    assert second.state == DiagnosticsState.ACCEPTED


def test_a_plain_16_charger_is_asked_by_getdiagnostics(requested, fake_fleet):
    assert fake_fleet.sent[0].action == "GetDiagnostics"
