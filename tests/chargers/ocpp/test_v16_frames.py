"""Malformed input gets the CALLERROR the 1.6 standard names, changes nothing, and the socket,
like every other charger's, stays up."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async

from chargers.models import ChargingSession, Connector, MeterSample, OcppMessage
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import connected, exchange, now, raw_socket

pytestmark = pytest.mark.django_db(transaction=True)


BOOT = [2, "boot-1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]


@pytest.mark.parametrize(
    "frame,expected_id,code",
    [
        ("this is not json", "-1", "FormationViolation"),
        ('{"an": "object"}', "-1", "FormationViolation"),
        ("[2]", "-1", "FormationViolation"),
        ([2, 17, "Heartbeat", {}], "-1", "FormationViolation"),
        ([2, "x" * 37, "Heartbeat", {}], "-1", "FormationViolation"),
        ([2, "m1", "Heartbeat"], "m1", "FormationViolation"),
        ([2, "m2", "Heartbeat", []], "m2", "FormationViolation"),
        ([9, "m3", "Heartbeat", {}], "m3", "FormationViolation"),
        ([2, "m4", "MakeCoffee", {}], "m4", "NotImplemented"),
        ([2, "m5", "RemoteStartTransaction", {"idTag": "X"}], "m5", "NotSupported"),
        ([2, "m6", "Authorize", {}], "m6", "OccurenceConstraintViolation"),
        ([2, "m7", "Authorize", {"idTag": 7}], "m7", "TypeConstraintViolation"),
        ([2, "m8", "Authorize", {"idTag": "x" * 21}], "m8", "PropertyConstraintViolation"),
        (
            [
                2,
                "m9",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "Oops", "status": "Available"},
            ],
            "m9",
            "PropertyConstraintViolation",
        ),
        ([2, "m10", "Heartbeat", {"surprise": 1}], "m10", "FormationViolation"),
        (
            [
                2,
                "m11",
                "StartTransaction",
                {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "yesterday"},
            ],
            "m11",
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_bad_frames_get_the_standard_callerror_and_the_socket_stays_up(
    ocpp_server, tenant_a, charger, frame, expected_id, code
):
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        assert (await exchange(ws, BOOT))[0] == 3
        reply = await exchange(ws, frame)
        assert reply[:3] == [4, expected_id, code]
        assert (await exchange(ws, [2, "after", "Heartbeat", {}]))[:2] == [3, "after"]
    with scoping.scope(tenant_a):
        assert await sync_to_async(ChargingSession.objects.count)() == 0


async def test_a_frame_over_the_size_limit_closes_only_that_socket(
    ocpp_server, tenant_a, make_charger, charger
):
    await sync_to_async(make_charger)(tenant_a, identity="CP-2")
    async with connected(ocpp_server, "tenant-a", "CP-2") as neighbour:
        await neighbour.boot()
        huge = json.dumps(
            [2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * (2 * 1024 * 1024)}]
        )
        # The server drops the connection (autobahn aborts on an oversized message).
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
                await ws.send(huge)
                await asyncio.wait_for(ws.recv(), 10)
        from ocpp.v16 import call

        assert (await neighbour.call(call.Heartbeat())).current_time


async def test_a_failed_message_writes_nothing_half_way(ocpp_server, tenant_a, charger):
    # The second sampled value breaks the schema: none of the first is stored either.
    bad = [
        2,
        "mv",
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": now(),
                    "sampledValue": [{"value": "10"}, {"value": "11", "unit": "Parsecs"}],
                }
            ],
        },
    ]
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        await exchange(ws, BOOT)
        assert (await exchange(ws, bad))[2] == "PropertyConstraintViolation"
    with scoping.scope(tenant_a):
        assert await sync_to_async(MeterSample.objects.count)() == 0


async def test_text_no_database_can_store_is_refused_and_the_frame_still_logged(
    ocpp_server, tenant_a, charger
):
    # Valid JSON escapes that spell a NUL character and an unpaired surrogate.
    nul = '[2, "a\\u0000b", "Heartbeat", {}]'
    surrogate = '[2, "s1", "DataTransfer", {"vendorId": "v\\ud800"}]'
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        await exchange(ws, BOOT)
        assert (await exchange(ws, nul))[:3] == [4, "-1", "FormationViolation"]
        assert (await exchange(ws, surrogate))[:3] == [4, "s1", "FormationViolation"]
        assert (await exchange(ws, "not json \x00"))[:3] == [4, "-1", "FormationViolation"]
        # The next message rides with those frames' log rows and is stored all the same.
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        assert (await exchange(ws, [2, "s2", "StatusNotification", status]))[0] == 3
    with scoping.scope(tenant_a):
        connector = await sync_to_async(Connector.objects.get)(connector_id=1)
        bodies = await sync_to_async(list)(OcppMessage.objects.values_list("body", flat=True))
    assert connector.status == "Charging"
    assert nul in bodies and surrogate in bodies and "not json \ufffd" in bodies


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    "frame,expected_id",
    [
        # Deeper than the JSON decoder goes: the frame cannot be parsed, but its id is read from
        # its start, so the charger can match the error to its call.
        ('[2,"deep","Heartbeat",{"a":' + nested(100_000) + "}]", "deep"),
        # Readable, but deeper than any OCPP message: refused before anything recurses on it.
        ('[2,"deep","Heartbeat",{"a":' + nested(900) + "}]", "deep"),
        ('[2,"deep","DataTransfer",{"vendorId":"v","data":"x","more":' + nested(65) + "}]", "deep"),
    ],
)
async def test_deeply_nested_json_is_refused_and_the_socket_stays_up(
    ocpp_server, tenant_a, charger, frame, expected_id
):
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        assert (await exchange(ws, BOOT))[0] == 3
        await ws.send(frame)
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert reply[:3] == [4, expected_id, "FormationViolation"]
        assert "nests deeper than 64 levels" in reply[3]
        assert (await exchange(ws, [2, "after", "Heartbeat", {}]))[:2] == [3, "after"]


async def test_as_deep_as_a_message_may_nest_is_read_as_usual(ocpp_server, tenant_a, charger):
    # 64 levels, the frame included: the schema decides (DataTransfer's data is a string).
    frame = '[2,"ok","DataTransfer",{"vendorId":"v","data":' + nested(62) + "}]"
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        assert (await exchange(ws, BOOT))[0] == 3
        await ws.send(frame)
        reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert reply[:3] == [4, "ok", "TypeConstraintViolation"]
