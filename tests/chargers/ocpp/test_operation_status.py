"""Firmware and upload status notifications reach the domain as `OperationStatusReported`,
with what the status means and the request it names, from real frames of either version."""

from ocpp.v16 import call as call16
from ocpp.v201 import call

from chargers.events import OperationStatusReported
from cpms.events import captured
from tests.chargers.ocpp.clients import connected
from tests.chargers.ocpp.clients201 import connected201


async def test_a_201_charger_s_notifications_carry_stage_and_request(
    ocpp_server_in_process, tenant_a, charger
):
    with captured(OperationStatusReported) as events:
        async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            await cp.call(call.FirmwareStatusNotification(status="Downloading", request_id=7))
            await cp.call(call.FirmwareStatusNotification(status="InstallVerificationFailed"))
            await cp.call(call.LogStatusNotification(status="UploadFailure", request_id=8))

    assert [(e.operation, e.status, e.stage, e.request_id) for e in events] == [
        ("firmware", "Downloading", "downloading", 7),
        ("firmware", "InstallVerificationFailed", "failed", None),
        ("upload", "UploadFailure", "failed", 8),
    ]


async def test_a_16_charger_s_notifications_carry_their_stage(
    ocpp_server_in_process, tenant_a, charger
):
    with captured(OperationStatusReported) as events:
        async with connected(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
            await cp.boot()
            await cp.call(call16.FirmwareStatusNotification(status="Installed"))
            await cp.call(
                call16.SignedFirmwareStatusNotification(status="InvalidSignature", request_id=4)
            )
            await cp.call(call16.DiagnosticsStatusNotification(status="UploadFailed"))

    assert [(e.operation, e.status, e.stage, e.request_id) for e in events] == [
        ("firmware", "Installed", "installed", None),
        ("firmware", "InvalidSignature", "failed", 4),
        ("upload", "UploadFailed", "failed", None),
    ]
