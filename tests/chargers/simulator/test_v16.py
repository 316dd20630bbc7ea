"""An OCPP 1.6 simulated charger against a small CSMS made of the ocpp library's central side."""

import asyncio
from datetime import UTC, datetime

from ocpp.v16 import call

from tests.chargers.simulator.fake_csms import PATIENCE, FakeCsms
from tests.chargers.simulator.helpers import new_charger, running


def energy(payload: dict) -> float:
    """Energy.Active.Import.Register of a MeterValues payload, in Wh."""
    (sample,) = [
        v
        for v in payload["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert sample["unit"] == "Wh"
    return float(sample["value"])


def statuses(csms, connector_id: int, since: int = 0) -> list[str]:
    return [
        p["status"]
        for p in csms.payloads("StatusNotification", since=since)
        if p["connectorId"] == connector_id
    ]


async def test_it_boots_with_basic_auth_and_reports_every_connector_including_zero(
    csms, make_charger
):
    async with running(make_charger()):
        (boot,) = await csms.wait_for("BootNotification")
        assert boot["chargePointVendor"] == "CPMS-Sim"
        assert boot["firmwareVersion"] == "1.0.0"
        assert boot["chargePointModel"] and boot["chargePointSerialNumber"]
        reported = await csms.wait_for("StatusNotification", count=3)
        assert sorted(p["connectorId"] for p in reported) == [0, 1, 2]
        assert {p["status"] for p in reported} == {"Available"}
        assert {p["errorCode"] for p in reported} == {"NoError"}
    assert csms.refusals == 0


async def test_it_retries_the_boot_while_the_csms_says_pending():
    async with FakeCsms(boot_statuses=("Pending", "Pending")) as csms:
        async with running(new_charger(csms)):
            assert len(await csms.wait_for("BootNotification", count=3)) == 3
            # Nothing but BootNotification may be sent before the CSMS accepted the charger.
            assert csms.actions()[:3] == ["BootNotification"] * 3


async def test_it_heartbeats_at_the_interval_the_csms_returned():
    async with FakeCsms(heartbeat_interval=1) as csms:
        loop = asyncio.get_running_loop()
        # Taken before the charger exists: its first heartbeat is at least the interval later.
        began = loop.time()
        async with running(new_charger(csms)) as charger:
            await csms.wait_for("Heartbeat")
            assert loop.time() - began >= 0.8
            assert charger.heartbeat_interval == 1
            assert charger.store.value("HeartbeatInterval") == "1"


async def test_a_refused_handshake_is_retried_with_back_off_and_nothing_is_sent():
    async with FakeCsms(password="another-password-entirely") as csms:
        charger = new_charger(csms, password="wrong-password-1234")
        async with running(charger, online=False):
            await csms.until(lambda: csms.refusals >= 3, what="three refused attempts")
        assert not csms.frames
        refused = [e for e in charger.events if e.kind == "refused"]
        assert refused and "HTTP 403" in refused[0].text


async def test_it_charges_a_session_whose_energy_rises_and_then_stops_it(csms, make_charger):
    charger = make_charger(meter_interval=0.1)
    async with running(charger):
        session = await charger.start_session("SIM-TAG-0001", connector_id=1)
        assert session.transaction_id == 1001
        samples = await csms.wait_for("MeterValues", count=4)
        await charger.stop_session("Local")
        (stop,) = await csms.wait_for("StopTransaction")

    (authorize,) = csms.payloads("Authorize")
    assert authorize == {"idTag": "SIM-TAG-0001"}
    (start,) = csms.payloads("StartTransaction")
    assert start["connectorId"] == 1 and start["idTag"] == "SIM-TAG-0001"
    readings = [energy(p) for p in samples]
    assert all(p["transactionId"] == 1001 for p in samples)
    assert start["meterStart"] <= readings[0]
    assert all(b > a for a, b in zip(readings, readings[1:], strict=False)), readings
    values = samples[-1]["meterValue"][0]["sampledValue"]
    measured = {(v["measurand"], v.get("phase")) for v in values}
    for phase in ("L1", "L2", "L3"):
        assert ("Current.Import", phase) in measured
        assert ("Voltage", phase) in measured
    assert ("Power.Active.Import", None) in measured and ("SoC", None) in measured
    power = next(float(v["value"]) for v in values if v["measurand"] == "Power.Active.Import")
    # Energy rises with the power: at least P x 0.1 s between samples (jitter allowed). Only a
    # lower bound: on a busy machine the samples are further apart, never closer.
    step_wh = readings[-1] - readings[-2]
    assert 0.2 * power * 0.1 / 3600 <= step_wh
    assert stop["transactionId"] == 1001 and stop["reason"] == "Local"
    assert stop["meterStop"] >= round(readings[-1])
    contexts = [d["sampledValue"][0]["context"] for d in stop["transactionData"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    assert statuses(csms, 1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    assert session.energy_wh > 0


async def test_it_does_not_start_a_session_for_a_refused_id_tag(csms, make_charger):
    csms.authorize_status = "Invalid"
    async with running(make_charger()) as charger:
        assert await charger.start_session("UNKNOWN-TAG") is None
        await csms.until(lambda: statuses(csms, 1)[-1:] == ["Available"], what="Available again")
    assert not csms.payloads("StartTransaction")


async def test_remote_start_and_remote_stop_run_a_session(csms, make_charger):
    async with running(make_charger()) as charger:
        answer = await csms.call(
            charger.id, call.RemoteStartTransaction(id_tag="TAG-R", connector_id=2)
        )
        assert answer.status == "Accepted"
        (start,) = await csms.wait_for("StartTransaction")
        assert start["connectorId"] == 2 and start["idTag"] == "TAG-R"
        assert await charger.wait_until(
            lambda: charger.sessions and charger.sessions[0].transaction_id, PATIENCE
        )
        transaction_id = charger.sessions[0].transaction_id

        unknown = await csms.call(charger.id, call.RemoteStopTransaction(transaction_id=999))
        assert unknown.status == "Rejected"
        answer = await csms.call(
            charger.id, call.RemoteStopTransaction(transaction_id=transaction_id)
        )
        assert answer.status == "Accepted"
        (stop,) = await csms.wait_for("StopTransaction")
        assert stop["transactionId"] == transaction_id and stop["reason"] == "Remote"
        # Remote starts are not authorised again unless AuthorizeRemoteTxRequests says so.
        assert not csms.payloads("Authorize")


async def test_reset_stops_the_session_reconnects_and_boots_again(csms, make_charger):
    async with running(make_charger()) as charger:
        await charger.start_session("SIM-TAG-0001")
        answer = await csms.call(charger.id, call.Reset(type="Hard"))
        assert answer.status == "Accepted"
        (stop,) = await csms.wait_for("StopTransaction")
        assert stop["reason"] == "HardReset"
        await csms.wait_for("BootNotification", count=2)
        assert await charger.wait_until(lambda: charger.online, PATIENCE)
        assert csms.connects[charger.id] == 2
        # After the reboot every connector is reported again.
        reboot = next(
            f.index for f in csms.frames if f.action == "BootNotification" and f.index > 0
        )
        reported = await csms.wait_for("StatusNotification", since=reboot, count=3)
        assert sorted(p["connectorId"] for p in reported) == [0, 1, 2]


async def test_configuration_keys_live_in_a_real_store(csms, make_charger):
    async with running(make_charger()) as charger:
        everything = await csms.call(charger.id, call.GetConfiguration())
        keys = {entry["key"]: entry for entry in everything.configuration_key}
        assert keys["NumberOfConnectors"] == {
            "key": "NumberOfConnectors",
            "readonly": True,
            "value": "2",
        }
        assert "value" not in keys["AuthorizationKey"]
        assert keys["MeterValueSampleInterval"]["value"] == "60"

        async def change(key, value):
            return (
                await csms.call(charger.id, call.ChangeConfiguration(key=key, value=value))
            ).status

        assert await change("NumberOfConnectors", "4") == "Rejected"
        assert await change("NoSuchKey", "1") == "NotSupported"
        assert await change("HeartbeatInterval", "soon") == "Rejected"
        assert await change("MeterValueSampleInterval", "15") == "Accepted"
        assert charger.meter_interval == 15
        # The whitepaper's form: the hexadecimal representation of 16-20 bytes, no other.
        assert await change("AuthorizationKey", "a-new-key-0042-xy") == "Rejected"
        assert await change("AuthorizationKey", "612D6E65772D6B65792D303034322D7879") == "Accepted"
        assert charger.password == "a-new-key-0042-xy"

        some = await csms.call(
            charger.id,
            call.GetConfiguration(key=["MeterValueSampleInterval", "Nope", "AuthorizationKey"]),
        )
        values = {e["key"]: e.get("value") for e in some.configuration_key}
        assert values == {"MeterValueSampleInterval": "15", "AuthorizationKey": None}
        assert some.unknown_key == ["Nope"]

        mark = csms.mark()
        assert await change("HeartbeatInterval", "1") == "Accepted"
        await csms.wait_for("Heartbeat", since=mark)


async def test_the_new_authorization_key_is_the_password_of_the_next_connection(csms, make_charger):
    async with running(make_charger()) as charger:
        new_password = "rotated-key-0042-ab"
        answer = await csms.call(
            charger.id,
            call.ChangeConfiguration(key="AuthorizationKey", value=new_password.encode().hex()),
        )
        assert answer.status == "Accepted"
        csms.password = new_password
        await csms.drop(charger.id)
        await csms.until(lambda: csms.connects[charger.id] == 2, what="a reconnect")
    assert csms.refusals == 0


async def test_update_firmware_walks_the_statuses_and_reboots_into_the_new_version(
    csms, make_charger
):
    async with running(make_charger()) as charger:
        answer = await csms.call(
            charger.id,
            call.UpdateFirmware(
                location="http://firmware.example.test/cpms-sim-2.1.0.bin",
                retrieve_date=datetime.now(UTC).isoformat(),
            ),
        )
        assert answer is not None
        await csms.wait_for("BootNotification", count=2)
        walked = [p["status"] for p in csms.payloads("FirmwareStatusNotification")]
        assert walked == ["Downloading", "Downloaded", "Installing", "Installed"]
        boots = csms.payloads("BootNotification")
        assert boots[-1]["firmwareVersion"] == "2.1.0"
        assert charger.firmware_version == "2.1.0"


async def test_a_failing_firmware_update_reports_the_failure_and_keeps_the_old_version(
    csms, make_charger
):
    async with running(make_charger(firmware_failure_rate=1.0)) as charger:
        # The update itself, not the UpdateFirmware command: when it returns, the reboot it
        # would do after a success would have begun, so its absence is a fact, not a guess.
        await charger.firmware.update("http://firmware.example.test/fw-9.9.9.bin")
        (failed,) = csms.payloads("FirmwareStatusNotification")[-1:]
        assert failed["status"] in ("DownloadFailed", "InstallationFailed")
        assert not charger.reboots.rebooting and charger.reboots.pending is None
        assert len(csms.payloads("BootNotification")) == 1
        assert charger.firmware_version == "1.0.0"


async def test_a_firmware_image_that_cannot_be_fetched_is_a_failed_download(
    csms, make_charger, upload_server
):
    url, _ = upload_server  # it takes uploads; a GET of an image there is refused
    async with running(make_charger(download_firmware=True)) as charger:
        await charger.firmware.update(url + "fw-9.9.9.bin")
        walked = [p["status"] for p in csms.payloads("FirmwareStatusNotification")]
        assert walked == ["Downloading", "DownloadFailed"]
        assert charger.firmware_version == "1.0.0"


async def test_a_stale_firmware_update_reports_installed_and_boots_on_the_old_version(
    csms, make_charger
):
    async with running(make_charger(firmware_stale_rate=1.0)) as charger:
        await charger.firmware.update("http://firmware.example.test/fw-9.9.9.bin")
        await csms.wait_for("BootNotification", count=2)
        walked = [p["status"] for p in csms.payloads("FirmwareStatusNotification")]
        assert walked == ["Downloading", "Downloaded", "Installing", "Installed"]
        assert csms.payloads("BootNotification")[-1]["firmwareVersion"] == "1.0.0"
        assert charger.firmware_version == "1.0.0"


async def test_trigger_message_sends_the_requested_message(csms, make_charger):
    async with running(make_charger()) as charger:
        await csms.wait_for("StatusNotification", count=3)

        async def trigger(message, connector_id=None):
            mark = csms.mark()
            answer = await csms.call(
                charger.id,
                call.TriggerMessage(requested_message=message, connector_id=connector_id),
            )
            return answer.status, mark

        status, mark = await trigger("StatusNotification", 2)
        assert status == "Accepted"
        (reported,) = await csms.wait_for("StatusNotification", since=mark)
        assert reported["connectorId"] == 2
        status, mark = await trigger("Heartbeat")
        await csms.wait_for("Heartbeat", since=mark)
        status, mark = await trigger("MeterValues", 1)
        (values,) = await csms.wait_for("MeterValues", since=mark)
        assert values["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
        status, mark = await trigger("FirmwareStatusNotification")
        (firmware,) = await csms.wait_for("FirmwareStatusNotification", since=mark)
        assert firmware["status"] == "Idle"
        status, mark = await trigger("BootNotification")
        await csms.wait_for("BootNotification", since=mark)
        status, _ = await trigger("StatusNotification", 7)
        assert status == "Rejected"


async def test_it_reconnects_and_delivers_queued_messages_in_order(csms, make_charger):
    async with running(make_charger()) as charger:
        csms.refusing = True
        await csms.drop(charger.id)
        assert await charger.wait_until(lambda: not charger.connected, PATIENCE)

        # Offline: the session starts without a transactionId; everything waits in the queue.
        session = await charger.start_session("SIM-TAG-0002")
        assert session.transaction_id is None
        # Time passes between the samples, so the energy rises (at least this; more is fine).
        await asyncio.sleep(0.05)
        await charger.send_meter_values()
        await asyncio.sleep(0.05)
        await charger.send_meter_values()
        await charger.stop_session("Local")
        assert charger.queued == 4
        assert not csms.payloads("StartTransaction")
        # It keeps trying to reconnect meanwhile.
        await csms.until(lambda: csms.refusals >= 1, what="a refused reconnect")

        mark = csms.mark()
        csms.refusing = False
        (stop,) = await csms.wait_for("StopTransaction", since=mark)

    transaction = [
        (f.action, f.payload)
        for f in csms.frames[mark:]
        if f.action in ("StartTransaction", "MeterValues", "StopTransaction")
    ]
    assert [action for action, _ in transaction] == [
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
    ]
    # The id the CSMS returned for the queued StartTransaction is used by the later messages.
    assert session.transaction_id == 1001
    assert transaction[1][1]["transactionId"] == 1001
    assert transaction[2][1]["transactionId"] == 1001
    assert stop["transactionId"] == 1001
    # They carry the times they happened, not the time they were delivered.
    assert transaction[0][1]["timestamp"] <= transaction[1][1]["meterValue"][0]["timestamp"]
    assert energy(transaction[1][1]) < energy(transaction[2][1])
    # A charger that stayed registered does not boot again after a reconnect.
    assert len(csms.payloads("BootNotification")) == 1
    assert csms.refusals >= 1


async def test_change_availability_switches_connectors_and_waits_for_a_running_session(
    csms, make_charger
):
    async with running(make_charger()) as charger:
        await csms.wait_for("StatusNotification", count=3)
        answer = await csms.call(
            charger.id, call.ChangeAvailability(connector_id=2, type="Inoperative")
        )
        assert answer.status == "Accepted"
        await csms.until(lambda: statuses(csms, 2)[-1] == "Unavailable", what="Unavailable")
        assert await charger.start_session("SIM-TAG-0001", connector_id=2) is None
        answer = await csms.call(
            charger.id, call.ChangeAvailability(connector_id=2, type="Operative")
        )
        assert answer.status == "Accepted"
        await csms.until(lambda: statuses(csms, 2)[-1] == "Available", what="Available")

        await charger.start_session("SIM-TAG-0001", connector_id=1)
        answer = await csms.call(
            charger.id, call.ChangeAvailability(connector_id=1, type="Inoperative")
        )
        assert answer.status == "Scheduled"
        await charger.stop_session("Local", connector_id=1)
        await csms.until(lambda: statuses(csms, 1)[-1] == "Unavailable", what="Unavailable")


async def test_a_charging_profile_caps_the_power_until_it_is_cleared(csms, make_charger):
    charger = make_charger(max_power_w=22080.0)
    async with running(charger):
        await charger.start_session("SIM-TAG-0001", connector_id=1)
        profile = {
            "charging_profile_id": 7,
            "stack_level": 1,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": {
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 3000.0}],
            },
        }
        answer = await csms.call(
            charger.id, call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
        )
        assert answer.status == "Accepted"
        schedule = await csms.call(
            charger.id, call.GetCompositeSchedule(connector_id=1, duration=60)
        )
        assert schedule.status == "Accepted"
        assert float(schedule.charging_schedule["charging_schedule_period"][0]["limit"]) == 3000.0
        await charger.send_meter_values(1)
        mark = csms.mark()
        await charger.send_meter_values(1)
        (capped,) = csms.payloads("MeterValues", since=mark)
        power = [
            float(v["value"])
            for v in capped["meterValue"][0]["sampledValue"]
            if v["measurand"] == "Power.Active.Import"
        ]
        assert power and power[0] <= 3000
        cleared = await csms.call(charger.id, call.ClearChargingProfile(id=7))
        assert cleared.status == "Accepted"
        again = await csms.call(charger.id, call.ClearChargingProfile(id=7))
        assert again.status == "Unknown"
        # A TxProfile needs a transaction on its connector.
        refused = await csms.call(
            charger.id, call.SetChargingProfile(connector_id=2, cs_charging_profiles=profile)
        )
        assert refused.status == "Rejected"


async def test_a_fault_ends_the_session_and_marks_the_connector_faulted(csms, make_charger):
    async with running(make_charger()) as charger:
        await charger.start_session("SIM-TAG-0001", connector_id=1)
        await charger.fault("GroundFailure", connector_id=1)
        (stop,) = await csms.wait_for("StopTransaction")
        assert stop["reason"] == "Other"
        (faulted,) = await csms.wait_for("StatusNotification", lambda p: p["status"] == "Faulted")
        assert faulted["connectorId"] == 1 and faulted["errorCode"] == "GroundFailure"
        await charger.clear_fault(1)
        await csms.until(lambda: statuses(csms, 1)[-1] == "Available", what="Available again")


async def test_a_silent_charger_sends_nothing_not_even_heartbeats_then_resumes(csms, make_charger):
    # No heartbeats of its own (interval 0) until the test asks for them, so what the CSMS
    # receives depends on the silence, never on the clock.
    async with running(make_charger(heartbeat_interval=0)) as charger:
        await csms.wait_for("StatusNotification", count=3)
        # A DataTransfer is in flight, its answer held back, when the charger falls silent.
        release = csms.hold("DataTransfer")
        in_flight = asyncio.create_task(charger.data_transfer("before"))
        await csms.wait_for("DataTransfer")
        mark = csms.mark()
        # Silent until the test ends it: however slow the machine, all below happens in it.
        await charger.go_silent(PATIENCE)
        ignored = await csms.send_call(charger.id, "ClearCache", {})
        release()
        # The answer comes after the command on the one socket: the command was read, and
        # dropped, while the charger was silent. Answers to its own calls still come in.
        assert await in_flight == "Accepted"
        # Nothing leaves: no heartbeat, no volatile message; a security event waits.
        assert not await charger.registration.heartbeat()
        assert await charger.data_transfer("while silent") is None
        held = asyncio.create_task(charger.security_event("TamperDetectionActivated"))

        await charger.go_silent(0)
        await held
        answer = await csms.call(charger.id, call.ClearCache())
        assert answer.status == "Accepted"
        # Whatever it had sent while silent would stand before the held event (one socket,
        # in order). The command it dropped was never handled, and never answered, not even
        # afterwards: its answer would have come before the one to this ClearCache.
        assert csms.actions(since=mark) == ["SecurityEventNotification"]
        handled = [e.text for e in charger.events if e.kind == "command"]
        assert len(handled) == 1 and "ClearCache" in handled[0]
        assert ignored not in csms.answered

        # Its heartbeats resume at the interval the CSMS sets.
        answer = await csms.call(
            charger.id, call.ChangeConfiguration(key="HeartbeatInterval", value="1")
        )
        assert answer.status == "Accepted"
        await csms.wait_for("Heartbeat", since=mark)


async def test_smaller_commands_get_the_answers_a_real_charger_gives(csms, make_charger):
    async with running(make_charger()) as charger:

        async def ask(payload):
            return await csms.call(charger.id, payload)

        assert (await ask(call.ClearCache())).status == "Accepted"
        echoed = await ask(call.DataTransfer(vendor_id="CPMS-Sim", message_id="Echo", data="hi"))
        assert echoed.status == "Accepted" and echoed.data == "hi"
        assert (await ask(call.DataTransfer(vendor_id="Other"))).status == "UnknownVendorId"
        assert (await ask(call.GetLocalListVersion())).list_version == 0
        full = call.SendLocalList(
            list_version=3,
            update_type="Full",
            local_authorization_list=[{"id_tag": "TAG-1", "id_tag_info": {"status": "Accepted"}}],
        )
        assert (await ask(full)).status == "Accepted"
        assert (await ask(call.GetLocalListVersion())).list_version == 3
        stale = call.SendLocalList(list_version=2, update_type="Differential")
        assert (await ask(stale)).status == "VersionMismatch"
        assert (await ask(call.UnlockConnector(connector_id=1))).status == "Unlocked"
        assert (await ask(call.UnlockConnector(connector_id=9))).status == "NotSupported"

        expiry = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1).isoformat()
        reserve = call.ReserveNow(
            connector_id=2, expiry_date=expiry, id_tag="TAG-1", reservation_id=5
        )
        assert (await ask(reserve)).status == "Accepted"
        await csms.until(lambda: statuses(csms, 2)[-1:] == ["Reserved"], what="Reserved")
        assert await charger.start_session("SOMEONE-ELSE", connector_id=2) is None
        assert (await ask(call.CancelReservation(reservation_id=5))).status == "Accepted"
        assert (await ask(call.CancelReservation(reservation_id=5))).status == "Rejected"
        await csms.until(lambda: statuses(csms, 2)[-1:] == ["Available"], what="Available")

        # The holder of a reservation gets the reserved connector; the start names it.
        reserve = call.ReserveNow(
            connector_id=2, expiry_date=expiry, id_tag="TAG-1", reservation_id=6
        )
        assert (await ask(reserve)).status == "Accepted"
        session = await charger.start_session("TAG-1", connector_id=2)
        assert session is not None and session.reservation_id == 6
        (start,) = await csms.wait_for("StartTransaction")
        assert start["reservationId"] == 6


async def test_get_diagnostics_uploads_a_text_file_over_http(csms, make_charger, upload_server):
    location, received = upload_server
    async with running(make_charger()) as charger:
        answer = await csms.call(charger.id, call.GetDiagnostics(location=location))
        assert answer.file_name.endswith(".txt")
        await csms.wait_for("DiagnosticsStatusNotification", count=2)
        walked = [p["status"] for p in csms.payloads("DiagnosticsStatusNotification")]
        assert walked == ["Uploading", "Uploaded"]
        (upload,) = received
        assert upload["name"] == answer.file_name
        assert b"SIM-0001" in upload["body"]


PEM = "-----BEGIN CERTIFICATE-----\nMIIBsim\n-----END CERTIFICATE-----"


async def test_certificates_are_installed_listed_and_deleted(csms, make_charger):
    async with running(make_charger()) as charger:
        root = "CentralSystemRootCertificate"
        installed = await csms.command(
            charger.id, "InstallCertificate", {"certificateType": root, "certificate": PEM}
        )
        listed = await csms.command(
            charger.id, "GetInstalledCertificateIds", {"certificateType": root}
        )
        (hash_data,) = listed.certificate_hash_data
        deleted = await csms.command(
            charger.id, "DeleteCertificate", {"certificateHashData": hash_data}
        )
        again = await csms.command(
            charger.id, "DeleteCertificate", {"certificateHashData": hash_data}
        )
        empty = await csms.command(
            charger.id, "GetInstalledCertificateIds", {"certificateType": root}
        )

    assert (installed.status, listed.status, deleted.status) == ("Accepted", "Accepted", "Accepted")
    assert (again.status, empty.status) == ("NotFound", "NotFound")


async def test_a_chain_that_is_no_certificate_is_rejected_and_reported(csms, make_charger):
    async with running(make_charger()) as charger:
        answer = await csms.command(charger.id, "CertificateSigned", {"certificateChain": "junk"})
        (event,) = await csms.wait_for("SecurityEventNotification")

    assert answer.status == "Rejected"
    assert event["type"] == "InvalidChargingStationCertificate"


async def test_extended_trigger_asks_for_a_certificate_signing_request(csms, make_charger):
    async with running(make_charger()) as charger:
        answer = await csms.command(
            charger.id, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )
        (request,) = await csms.wait_for("SignCertificate")

    assert answer.status == "Accepted"
    assert request["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


async def test_a_signed_firmware_update_with_a_bad_certificate_is_refused_and_reported(
    csms, make_charger
):
    firmware = {
        "location": "http://fw.example/fw-2.0.0.bin",
        "retrieveDateTime": "2030-01-01T00:00:00Z",
        "signingCertificate": "not a certificate",
        "signature": "c2ln",
    }
    async with running(make_charger()) as charger:
        answer = await csms.command(
            charger.id, "SignedUpdateFirmware", {"requestId": 1, "firmware": firmware}
        )
        (event,) = await csms.wait_for("SecurityEventNotification")

    assert answer.status == "InvalidCertificate"
    assert event["type"] == "InvalidFirmwareSigningCertificate"
    assert charger.firmware_version == "1.0.0"
    assert not csms.payloads("SignedFirmwareStatusNotification")
