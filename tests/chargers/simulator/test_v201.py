"""An OCPP 2.0.1 simulated station against a small CSMS made of the ocpp library's central side."""

import asyncio
from datetime import UTC, datetime, timedelta

from ocpp.v201 import call

from chargers.simulator import ChargerConfig, SimulatedCharger
from chargers.simulator.base import ROUTINE_SECURITY_EVENTS
from chargers.simulator.connectors import WH_PER_SECOND
from tests.chargers.payloads import local_list_entry_201, profile_201
from tests.chargers.simulator.fake_csms import PASSWORD, PATIENCE
from tests.chargers.simulator.helpers import running


def energy(event: dict) -> float:
    (sample,) = [
        v
        for v in event["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert sample["unitOfMeasure"]["unit"] == "Wh"
    return sample["value"]


def connector_statuses(csms, evse_id: int) -> list[str]:
    return [
        p["connectorStatus"] for p in csms.payloads("StatusNotification") if p["evseId"] == evse_id
    ]


async def test_a_station_boots_and_reports_each_evse(csms, make_charger):
    async with running(make_charger("2.0.1")):
        (boot,) = await csms.wait_for("BootNotification")
        assert boot["reason"] == "PowerUp"
        assert boot["chargingStation"]["vendorName"] == "CPMS-Sim"
        assert boot["chargingStation"]["firmwareVersion"] == "1.0.0"
        reported = await csms.wait_for("StatusNotification", count=2)
        assert sorted((p["evseId"], p["connectorId"]) for p in reported) == [(1, 1), (2, 1)]
        assert {p["connectorStatus"] for p in reported} == {"Available"}


async def test_a_session_counts_seq_no_up_from_zero_and_its_energy_rises(csms, make_charger):
    charger = make_charger("2.0.1", meter_interval=0.1)
    async with running(charger):
        session = await charger.start_session("SIM-TAG-0001", connector_id=1)
        await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Updated", count=3)
        await charger.stop_session("Local")
        await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")

    (authorize,) = csms.payloads("Authorize")
    assert authorize["idToken"] == {"idToken": "SIM-TAG-0001", "type": "ISO14443"}
    events = csms.payloads("TransactionEvent")
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert {e["transactionInfo"]["transactionId"] for e in events} == {session.transaction_id}
    started, *updated, ended = events
    assert started["eventType"] == "Started" and started["triggerReason"] == "Authorized"
    assert started["idToken"]["idToken"] == "SIM-TAG-0001"
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["transactionInfo"]["chargingState"] == "Charging"
    assert {e["triggerReason"] for e in updated} == {"MeterValuePeriodic"}
    readings = [energy(e) for e in (started, *updated, ended)]
    assert all(b >= a for a, b in zip(readings, readings[1:], strict=False))
    assert readings[-1] > readings[0]
    phases = {
        (v["measurand"], v.get("phase")) for v in updated[-1]["meterValue"][0]["sampledValue"]
    }
    assert {("Current.Import", "L1"), ("Voltage", "L3"), ("SoC", None)} <= phases
    assert ended["eventType"] == "Ended"
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["triggerReason"] == "StopAuthorized"
    assert not any(e.get("offline") for e in events)
    assert connector_statuses(csms, 1) == ["Available", "Occupied", "Available"]


async def test_a_restarted_station_never_repeats_a_transaction_id_even_with_the_same_seed(csms):
    # A CSMS takes a transaction id it has seen for a resend of that transaction (2.0.1 finds
    # duplicates by transactionId and seqNo), so each run's sessions need ids of their own.
    # Four runs of the same station: two with the default config, two with one seed.
    runs = []
    for seed in (None, None, 7, 7):
        config = ChargerConfig(
            url=csms.url, charger_id="SIM-0001", password=PASSWORD, version="2.0.1", seed=seed
        )
        async with running(SimulatedCharger.create(config)) as charger:
            session = await charger.start_session("SIM-TAG-0001", connector_id=1)
            await charger.stop_session("Local")
        runs.append(session)

    started = [e for e in csms.payloads("TransactionEvent") if e["eventType"] == "Started"]
    ids = [e["transactionInfo"]["transactionId"] for e in started]
    assert ids == [session.transaction_id for session in runs]
    assert len(set(ids)) == 4
    assert all(len(transaction_id) <= 36 for transaction_id in ids)
    # The seed still repeats the load: the same car, and the same register but for what the
    # wall clock added between the two runs (a register only rises, restarts included).
    assert runs[2].vehicle == runs[3].vehicle
    assert 0 <= energy(started[3]) - energy(started[2]) < 3600 * WH_PER_SECOND


async def test_request_start_and_stop_transaction_run_a_session(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        answer = await csms.call(
            charger.id,
            call.RequestStartTransaction(
                id_token={"id_token": "APP-USER-1", "type": "Central"},
                remote_start_id=77,
                evse_id=2,
            ),
        )
        assert answer.status == "Accepted"
        (started,) = await csms.wait_for("TransactionEvent")
        assert started["triggerReason"] == "RemoteStart"
        assert started["transactionInfo"]["remoteStartId"] == 77
        assert started["idToken"] == {"idToken": "APP-USER-1", "type": "Central"}
        assert started["evse"]["id"] == 2
        transaction_id = started["transactionInfo"]["transactionId"]

        unknown = await csms.call(charger.id, call.RequestStopTransaction(transaction_id="nope"))
        assert unknown.status == "Rejected"
        answer = await csms.call(
            charger.id, call.RequestStopTransaction(transaction_id=transaction_id)
        )
        assert answer.status == "Accepted"
        (ended,) = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        assert ended["triggerReason"] == "RemoteStop"
        assert ended["transactionInfo"]["stoppedReason"] == "Remote"
        assert ended["seqNo"] == 1


async def test_get_and_set_variables_use_the_device_model(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:

        def item(component, variable, value=None, evse=None):
            data = {"component": {"name": component}, "variable": {"name": variable}}
            if evse:
                data["component"]["evse"] = {"id": evse}
            if value is not None:
                data["attribute_value"] = value
            return data

        got = await csms.call(
            charger.id,
            call.GetVariables(
                get_variable_data=[
                    item("OCPPCommCtrlr", "HeartbeatInterval"),
                    item("SecurityCtrlr", "BasicAuthPassword"),
                    item("NoSuchCtrlr", "Anything"),
                    item("OCPPCommCtrlr", "NoSuchVariable"),
                    item("EVSE", "AvailabilityState", evse=2),
                ]
            ),
        )
        results = [
            (r["attribute_status"], r.get("attribute_value")) for r in got.get_variable_result
        ]
        assert results == [
            ("Accepted", "60"),
            ("Rejected", None),
            ("UnknownComponent", None),
            ("UnknownVariable", None),
            ("Accepted", "Available"),
        ]
        set_ = await csms.call(
            charger.id,
            call.SetVariables(
                set_variable_data=[
                    item("SampledDataCtrlr", "TxUpdatedInterval", "5"),
                    item("ChargingStation", "Model", "Other"),
                    item("OCPPCommCtrlr", "HeartbeatInterval", "often"),
                    item("SecurityCtrlr", "BasicAuthPassword", "a-fresh-basic-auth-pw-1"),
                ]
            ),
        )
        assert [r["attribute_status"] for r in set_.set_variable_result] == [
            "Accepted",
            "Rejected",
            "Rejected",
            "Accepted",
        ]
        assert charger.meter_interval == 5
        assert charger.password == "a-fresh-basic-auth-pw-1"


async def test_get_base_report_answers_accepted_then_sends_notify_report(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        answer = await csms.call(
            charger.id, call.GetBaseReport(request_id=12, report_base="FullInventory")
        )
        assert answer.status == "Accepted"
        await csms.until(
            lambda: any(p.get("tbc") is False for p in csms.payloads("NotifyReport")),
            what="the last NotifyReport",
        )
        reports = csms.payloads("NotifyReport")
        assert [r["seqNo"] for r in reports] == list(range(len(reports)))
        assert {r["requestId"] for r in reports} == {12}
        data = [d for r in reports for d in r["reportData"]]
        names = {(d["component"]["name"], d["variable"]["name"]) for d in data}
        assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
        password = next(d for d in data if d["variable"]["name"] == "BasicAuthPassword")
        assert "value" not in password["variableAttribute"][0]


async def test_a_station_reconnects_and_sends_queued_events_marked_offline(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        csms.refusing = True
        await csms.drop(charger.id)
        assert await charger.wait_until(lambda: not charger.connected, PATIENCE)
        session = await charger.start_session("SIM-TAG-0003")
        # Time passes before the sample, so the energy rises (at least this; more is fine).
        await asyncio.sleep(0.05)
        await charger.send_meter_values()
        await charger.stop_session("EVDisconnected")
        assert charger.queued == 3
        csms.refusing = False
        await csms.wait_for("TransactionEvent", count=3)

    events = csms.payloads("TransactionEvent")
    assert [e["eventType"] for e in events] == ["Started", "Updated", "Ended"]
    assert [e["seqNo"] for e in events] == [0, 1, 2]
    assert all(e["offline"] is True for e in events)
    assert {e["transactionInfo"]["transactionId"] for e in events} == {session.transaction_id}
    assert events[2]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert energy(events[0]) < energy(events[2])


async def test_update_firmware_reboots_and_reports_installed_after_the_new_boot(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        answer = await csms.call(
            charger.id,
            call.UpdateFirmware(
                request_id=3,
                firmware={
                    "location": "http://firmware.example.test/station-3.0.1.bin",
                    "retrieve_date_time": datetime.now(UTC).isoformat(),
                },
            ),
        )
        assert answer.status == "Accepted"
        await csms.wait_for("FirmwareStatusNotification", lambda p: p["status"] == "Installed")
        walked = [
            (p["status"], p.get("requestId")) for p in csms.payloads("FirmwareStatusNotification")
        ]
        assert walked == [
            ("Downloading", 3),
            ("Downloaded", 3),
            ("Installing", 3),
            ("InstallRebooting", 3),
            ("Installed", 3),
        ]
        boots = csms.payloads("BootNotification")
        assert boots[-1]["reason"] == "FirmwareUpdate"
        assert boots[-1]["chargingStation"]["firmwareVersion"] == "3.0.1"


async def test_reset_immediate_ends_the_transaction_and_boots_with_remote_reset(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        await charger.start_session("SIM-TAG-0001")
        answer = await csms.call(charger.id, call.Reset(type="Immediate"))
        assert answer.status == "Accepted"
        (ended,) = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
        assert ended["triggerReason"] == "ResetCommand"
        await csms.wait_for("BootNotification", count=2)
        assert csms.payloads("BootNotification")[-1]["reason"] == "RemoteReset"


async def test_trigger_message_on_a_station(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        await charger.start_session("SIM-TAG-0001", connector_id=1)

        async def trigger(message, evse=None):
            mark = csms.mark()
            answer = await csms.call(
                charger.id, call.TriggerMessage(requested_message=message, evse=evse)
            )
            return answer.status, mark

        status, mark = await trigger("StatusNotification", {"id": 2})
        assert status == "Accepted"
        (reported,) = await csms.wait_for("StatusNotification", since=mark)
        assert reported["evseId"] == 2
        status, mark = await trigger("TransactionEvent")
        (event,) = await csms.wait_for("TransactionEvent", since=mark)
        assert event["triggerReason"] == "Trigger" and event["eventType"] == "Updated"
        status, mark = await trigger("MeterValues", {"id": 2})
        (values,) = await csms.wait_for("MeterValues", since=mark)
        assert values["evseId"] == 2
        # A station that is registered already refuses to boot again on demand.
        status, _ = await trigger("BootNotification")
        assert status == "Rejected"


async def test_a_fault_reports_faulted_and_a_notify_event(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        await charger.start_session("SIM-TAG-0001", connector_id=1)
        await charger.fault("GroundFailure", connector_id=1)
        (ended,) = await csms.wait_for("TransactionEvent", lambda p: p["eventType"] == "Ended")
        assert ended["transactionInfo"]["stoppedReason"] == "GroundFault"
        assert ended["triggerReason"] == "AbnormalCondition"
        (event,) = await csms.wait_for("NotifyEvent")
        assert event["eventData"][0]["techCode"] == "GroundFailure"
        await csms.until(lambda: "Faulted" in connector_statuses(csms, 1), what="Faulted")


async def test_get_log_uploads_the_log_and_reports_each_step(csms, make_charger, upload_server):
    location, received = upload_server
    async with running(make_charger("2.0.1")) as charger:
        answer = await csms.call(
            charger.id,
            call.GetLog(
                log={"remote_location": location}, log_type="DiagnosticsLog", request_id=41
            ),
        )
        assert answer.status == "Accepted" and answer.filename.endswith(".txt")
        await csms.wait_for("LogStatusNotification", count=2)
        walked = [(p["status"], p["requestId"]) for p in csms.payloads("LogStatusNotification")]
        assert walked == [("Uploading", 41), ("Uploaded", 41)]
        assert received[0]["name"] == answer.filename


async def test_now_and_then_a_station_reports_security_events_vendor_data_and_local_limits(
    csms, make_charger
):
    async with running(make_charger("2.0.1", incident_interval=0.02)):
        for action in (
            "SecurityEventNotification",
            "DataTransfer",
            "SignCertificate",
            "NotifyChargingLimit",
            "ClearedChargingLimit",
        ):
            await csms.wait_for(action)

    (event, *_) = csms.payloads("SecurityEventNotification")
    assert event["type"] in ROUTINE_SECURITY_EVENTS
    (limit, *_) = csms.payloads("NotifyChargingLimit")
    assert limit["chargingLimit"] == {"chargingLimitSource": "EMS", "isGridCritical": False}
    assert 0 < limit["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] < 22080


async def test_an_iso15118_car_states_its_needs_after_the_transaction_started(csms, make_charger):
    async with running(make_charger("2.0.1", session_duration=30)) as charger:
        await charger.start_session("SIM-TAG-0001", connector_id=2, iso15118=True)
        (needs,) = await csms.wait_for("NotifyEVChargingNeeds")

    actions = csms.actions()
    assert actions.index("Get15118EVCertificate") < actions.index("Authorize")
    assert actions.index("TransactionEvent") < actions.index("NotifyEVChargingNeeds")
    assert needs["evseId"] == 2
    parameters = needs["chargingNeeds"]["acChargingParameters"]
    assert parameters["energyAmount"] > 0 and parameters["evMaxCurrent"] >= 6
    assert "departureTime" in needs["chargingNeeds"]


HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


async def test_variable_monitors_are_set_reported_and_cleared(csms, make_charger):
    monitor = {"value": 10.0, "type": "Delta", "severity": 5, **HEARTBEAT}
    unknown = {**monitor, "component": {"name": "NoSuchCtrlr"}}
    async with running(make_charger("2.0.1")) as charger:
        set_ = await csms.command(
            charger.id, "SetVariableMonitoring", {"setMonitoringData": [monitor, unknown]}
        )
        reported = await csms.command(charger.id, "GetMonitoringReport", {"requestId": 3})
        (report,) = await csms.wait_for("NotifyMonitoringReport")
        cleared = await csms.command(charger.id, "ClearVariableMonitoring", {"id": [1, 99]})
        after = await csms.command(charger.id, "GetMonitoringReport", {"requestId": 4})

    first, second = set_.set_monitoring_result
    assert (first["status"], first["id"], second["status"]) == ("Accepted", 1, "UnknownComponent")
    assert reported.status == "Accepted"
    assert report["requestId"] == 3 and report["tbc"] is False
    ((entry),) = report["monitor"]
    assert entry["variable"] == {"name": "HeartbeatInterval"}
    assert entry["variableMonitoring"] == [
        {"id": 1, "transaction": False, "value": 10.0, "type": "Delta", "severity": 5}
    ]
    assert [r["status"] for r in cleared.clear_monitoring_result] == ["Accepted", "NotFound"]
    assert after.status == "EmptyResultSet"


async def test_display_messages_are_shown_listed_and_cleared(csms, make_charger):
    message = {"id": 4, "priority": "InFront", "message": {"format": "UTF8", "content": "Welcome"}}
    html = {**message, "id": 5, "message": {"format": "HTML", "content": "<b>x</b>"}}
    async with running(make_charger("2.0.1")) as charger:
        shown = await csms.command(charger.id, "SetDisplayMessage", {"message": message})
        refused = await csms.command(charger.id, "SetDisplayMessage", {"message": html})
        await csms.command(charger.id, "GetDisplayMessages", {"requestId": 8})
        (listed,) = await csms.wait_for("NotifyDisplayMessages")
        cleared = await csms.command(charger.id, "ClearDisplayMessage", {"id": 4})
        gone = await csms.command(charger.id, "GetDisplayMessages", {"requestId": 9})

    assert (shown.status, refused.status) == ("Accepted", "NotSupportedMessageFormat")
    assert [m["message"]["content"] for m in listed["messageInfo"]] == ["Welcome"]
    assert (cleared.status, gone.status) == ("Accepted", "Unknown")


async def test_get_charging_profiles_reports_the_installed_profiles_per_evse(csms, make_charger):
    profile = profile_201(6, "TxDefaultProfile", 10.0)
    async with running(make_charger("2.0.1")) as charger:
        await csms.command(
            charger.id, "SetChargingProfile", {"evseId": 2, "chargingProfile": profile}
        )
        answer = await csms.command(
            charger.id,
            "GetChargingProfiles",
            {"requestId": 5, "chargingProfile": {"stackLevel": 0}},
        )
        (report,) = await csms.wait_for("ReportChargingProfiles")
        none = await csms.command(
            charger.id,
            "GetChargingProfiles",
            {"requestId": 6, "chargingProfile": {"stackLevel": 3}},
        )

    assert answer.status == "Accepted" and none.status == "NoProfiles"
    assert (report["evseId"], report["chargingLimitSource"]) == (2, "CSO")
    assert [p["id"] for p in report["chargingProfile"]] == [6]


async def test_clearing_customer_information_removes_the_token_from_the_local_list(
    csms, make_charger
):
    entry = local_list_entry_201("TAG-9")
    async with running(make_charger("2.0.1")) as charger:
        await csms.command(
            charger.id,
            "SendLocalList",
            {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry]},
        )
        answer = await csms.command(
            charger.id,
            "CustomerInformation",
            {"requestId": 2, "report": True, "clear": True, "idToken": entry["idToken"]},
        )
        (notice,) = await csms.wait_for("NotifyCustomerInformation")
        nobody = await csms.command(
            charger.id, "CustomerInformation", {"requestId": 3, "report": False, "clear": False}
        )

    assert answer.status == "Accepted" and nobody.status == "Rejected"
    assert "TAG-9: local list Accepted" in notice["data"] and "cleared" in notice["data"]
    assert "TAG-9" not in charger.local_list


async def test_published_firmware_is_served_until_it_is_unpublished(csms, make_charger):
    async with running(make_charger("2.0.1")) as charger:
        await csms.command(
            charger.id,
            "PublishFirmware",
            {"location": "http://fw.example/fw-3.0.0.bin", "checksum": "c0ffee", "requestId": 4},
        )
        statuses = await csms.wait_for("PublishFirmwareStatusNotification", count=4)
        wrong = await csms.command(charger.id, "UnpublishFirmware", {"checksum": "other"})
        done = await csms.command(charger.id, "UnpublishFirmware", {"checksum": "c0ffee"})

    assert [s["status"] for s in statuses] == [
        "Downloading",
        "Downloaded",
        "ChecksumVerified",
        "Published",
    ]
    assert statuses[-1]["location"] == ["http://sim-0001.local/firmware/fw-3.0.0.bin"]
    assert (wrong.status, done.status) == ("NoFirmware", "Unpublished")


def by_monitor(monitor_id: int):
    return lambda payload: payload["eventData"][0].get("variableMonitoringId") == monitor_id


async def test_a_monitor_reports_the_changes_it_watches_with_notify_event(csms, make_charger):
    availability = {
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "AvailabilityState"},
    }
    interval = {**HEARTBEAT, "value": 100.0, "type": "UpperThreshold", "severity": 4}
    async with running(make_charger("2.0.1")) as charger:
        await csms.command(
            charger.id,
            "SetVariableMonitoring",
            {
                "setMonitoringData": [
                    {"value": 0.0, "type": "Delta", "severity": 5, **availability},
                    interval,
                ]
            },
        )
        since = csms.mark()
        await charger.fault("GroundFailure", 1)
        (delta,) = await csms.wait_for("NotifyEvent", by_monitor(1), since=since)
        await csms.command(
            charger.id,
            "SetVariables",
            {"setVariableData": [{**HEARTBEAT, "attributeValue": "300"}]},
        )
        (alert,) = await csms.wait_for("NotifyEvent", by_monitor(2), since=since)
        await csms.command(
            charger.id,
            "SetVariables",
            {"setVariableData": [{**HEARTBEAT, "attributeValue": "400"}]},
        )
        # The outbox keeps order: once this is answered, anything the change set off is in.
        await charger.send_meter_values(1)

    (event,) = delta["eventData"]
    assert (event["trigger"], event["actualValue"]) == ("Delta", "Faulted")
    assert event["eventNotificationType"] == "CustomMonitor"
    assert event["component"] == {"name": "EVSE", "evse": {"id": 1}}
    (event,) = alert["eventData"]
    assert (event["trigger"], event["actualValue"]) == ("Alerting", "300")
    # Still above the threshold at 400: no second alert.
    alerts = [p for p in csms.payloads("NotifyEvent", since=since) if by_monitor(2)(p)]
    assert len(alerts) == 1


async def test_a_reservation_ends_at_its_expiry_and_when_its_evse_is_taken_out_of_use(
    csms, make_charger
):
    expiry = datetime.now(UTC) + timedelta(hours=1)
    async with running(make_charger("2.0.1")) as charger:

        async def reserve(reservation_id: int) -> str:
            answer = await csms.command(
                charger.id,
                "ReserveNow",
                {
                    "id": reservation_id,
                    "expiryDateTime": expiry.isoformat(),
                    "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
                    "evseId": 2,
                },
            )
            return answer.status

        assert await reserve(7) == "Accepted"
        await csms.until(lambda: connector_statuses(csms, 2)[-1:] == ["Reserved"], what="Reserved")
        # Nothing ends before its time; at its time the charger ends it and says so.
        assert charger.expire_reservations(now=expiry - timedelta(seconds=1)) == 0
        assert charger.expire_reservations(now=expiry) == 1
        (expired,) = await csms.wait_for("ReservationStatusUpdate")
        await csms.until(lambda: connector_statuses(csms, 2)[-1:] == ["Available"], what="free")

        assert await reserve(8) == "Accepted"
        await csms.command(
            charger.id,
            "ChangeAvailability",
            {"operationalStatus": "Inoperative", "evse": {"id": 2}},
        )
        (_, removed) = await csms.wait_for("ReservationStatusUpdate", count=2)
        await csms.until(lambda: connector_statuses(csms, 2)[-1:] == ["Unavailable"], what="out")

    assert expired == {"reservationId": 7, "reservationUpdateStatus": "Expired"}
    assert removed == {"reservationId": 8, "reservationUpdateStatus": "Removed"}
