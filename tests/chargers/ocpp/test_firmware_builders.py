"""Firmware updates and log uploads, said in each version's OCPP: the payloads each schema
accepts, and what the status notifications and replies mean to the domain."""

from datetime import UTC, datetime

import pytest

from chargers.models import Charger
from chargers.ocpp import builders, readers
from chargers.ocpp.frames import CALL
from chargers.ocpp.schemas import schema_problem

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
URL = "https://cpms.example/charger-files/firmware/abc/ac22-2.0.0.bin"
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize("signed", [False, True])
def test_an_update_is_valid_ocpp_for_each_version(version, signed):
    extra = {"signature": "c2lnbmF0dXJl", "signing_certificate": CERTIFICATE} if signed else {}
    request = builders.update_firmware(
        Charger(ocpp_version=version), location=URL, retrieve_at=AT, request_id=17, **extra
    )
    assert schema_problem(version, CALL, request.action, request.payload) is None


def test_a_16_charger_with_the_security_extension_gets_a_signed_update():
    request = builders.update_firmware(
        Charger(ocpp_version="1.6"),
        location=URL,
        retrieve_at=AT,
        request_id=17,
        signature="c2ln",
        signing_certificate=CERTIFICATE,
        signed_16=True,
    )
    assert request.action == "SignedUpdateFirmware"
    assert request.payload["requestId"] == 17
    assert request.payload["firmware"]["retrieveDateTime"] == "2026-03-02T02:00:00Z"
    assert schema_problem("1.6", CALL, request.action, request.payload) is None


def test_a_plain_16_update_names_location_and_retrieve_date():
    request = builders.update_firmware(
        Charger(ocpp_version="1.6"), location=URL, retrieve_at=AT, request_id=17
    )
    assert request == builders.Request(
        "UpdateFirmware", {"location": URL, "retrieveDate": "2026-03-02T02:00:00Z"}
    )


def test_a_201_update_carries_its_request_id_and_signature():
    request = builders.update_firmware(
        Charger(ocpp_version="2.0.1"),
        location=URL,
        retrieve_at=AT,
        request_id=99,
        signature="c2ln",
        signing_certificate=CERTIFICATE,
    )
    assert request.payload["requestId"] == 99
    assert request.payload["firmware"]["signature"] == "c2ln"


def test_a_signed_16_update_needs_a_signed_image():
    with pytest.raises(builders.ActionError):
        builders.update_firmware(
            Charger(ocpp_version="1.6"), location=URL, retrieve_at=AT, request_id=1, signed_16=True
        )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_log_request_carries_the_request_id_given(version):
    request = builders.get_diagnostics(
        Charger(ocpp_version=version), location="https://cpms.example/up/", request_id=5
    )
    assert schema_problem(version, CALL, request.action, request.payload) is None
    if version == "2.0.1":
        assert request.payload["requestId"] == 5


def test_every_firmware_status_of_both_versions_has_a_stage():
    # 1.6, its security extension and 2.0.1 (FirmwareStatusEnumType).
    statuses = {
        "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused",
        "Idle", "InstallationFailed", "Installing", "Installed", "InstallRebooting",
        "InstallScheduled", "InstallVerificationFailed", "InvalidSignature", "SignatureVerified",
    }  # fmt: skip
    assert set(readers.FIRMWARE_STAGES) == statuses
    failures = {s for s, stage in readers.FIRMWARE_STAGES.items() if stage == "failed"}
    assert failures == {
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
    }


@pytest.mark.parametrize(
    ("action", "reply", "accepted"),
    [
        ("UpdateFirmware", {}, True),
        ("UpdateFirmware", {"status": "Accepted"}, True),
        ("UpdateFirmware", {"status": "InvalidCertificate"}, False),
        ("SignedUpdateFirmware", {"status": "RevokedCertificate"}, False),
        ("GetDiagnostics", {"fileName": "d.txt"}, True),
        ("GetDiagnostics", {}, False),
        ("GetLog", {"status": "Accepted", "filename": "l.txt"}, True),
        ("GetLog", {"status": "Rejected"}, False),
    ],
)
def test_it_reads_whether_the_charger_took_the_operation_on(action, reply, accepted):
    assert readers.operation_accepted(action, reply)[0] is accepted
