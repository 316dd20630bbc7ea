"""Numbers a schema allows but no charger means (a negative connector, a register of 10^20 Wh)
get the standard's PropertyConstraintViolation, store nothing, and leave the socket up."""

import pytest

from chargers.models import ChargingSession, Connector, MeterSample, StatusEvent
from tests.aio import in_a
from tests.chargers.ocpp.clients import exchange, now, raw_socket

pytestmark = pytest.mark.django_db(transaction=True)

BOOT_16 = [2, "boot", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
BOOT_201 = [
    2,
    "boot",
    "BootNotification",
    {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"},
]


def status_16(connector):
    return {"connectorId": connector, "errorCode": "NoError", "status": "Available"}


def meter_16(value):
    reading = {"timestamp": now(), "sampledValue": [{"value": value}]}
    return {"connectorId": 1, "meterValue": [reading]}


def start_16(meter_start):
    return {"connectorId": 1, "idTag": "A", "meterStart": meter_start, "timestamp": now()}


def transaction_event(evse=1, seq_no=0, value=100):
    return {
        "eventType": "Started",
        "timestamp": now(),
        "triggerReason": "Authorized",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": "T-1"},
        "evse": {"id": evse, "connectorId": 1},
        "meterValue": [{"timestamp": now(), "sampledValue": [{"value": value}]}],
    }


def status_201(evse):
    return {"timestamp": now(), "connectorStatus": "Available", "evseId": evse, "connectorId": 1}


@pytest.mark.parametrize(
    "subprotocol,boot,action,payload",
    [
        ("ocpp1.6", BOOT_16, "StatusNotification", status_16(-1)),
        ("ocpp1.6", BOOT_16, "StatusNotification", status_16(2**32)),
        ("ocpp1.6", BOOT_16, "StartTransaction", start_16(10**20)),
        ("ocpp1.6", BOOT_16, "StartTransaction", start_16(-5)),
        ("ocpp1.6", BOOT_16, "MeterValues", meter_16("1e20")),
        ("ocpp2.0.1", BOOT_201, "StatusNotification", status_201(-5)),
        ("ocpp2.0.1", BOOT_201, "TransactionEvent", transaction_event(evse=-5)),
        ("ocpp2.0.1", BOOT_201, "TransactionEvent", transaction_event(seq_no=2**40)),
        ("ocpp2.0.1", BOOT_201, "TransactionEvent", transaction_event(value=1e20)),
    ],
)
async def test_an_out_of_range_number_is_a_property_violation_and_stores_nothing(
    ocpp_server, tenant_a, charger, subprotocol, boot, action, payload
):
    async with raw_socket(ocpp_server, "tenant-a", "CP-1", subprotocol=subprotocol) as ws:
        assert (await exchange(ws, boot))[0] == 3
        reply = await exchange(ws, [2, "odd", action, payload])
        assert reply[:3] == [4, "odd", "PropertyConstraintViolation"]
        assert (await exchange(ws, [2, "after", "Heartbeat", {}]))[:2] == [3, "after"]
    stored = await in_a(
        tenant_a,
        lambda: [
            model.objects.count()
            for model in (ChargingSession, MeterSample, StatusEvent, Connector)
        ],
    )
    assert stored == [0, 0, 0, 0]


async def test_a_large_register_a_meter_can_have_is_kept(ocpp_server, tenant_a, charger):
    # 5 GWh: beyond a 32-bit integer, well within what a register may read.
    async with raw_socket(ocpp_server, "tenant-a", "CP-1") as ws:
        assert (await exchange(ws, BOOT_16))[0] == 3
        reply = await exchange(ws, [2, "big", "StartTransaction", start_16(5 * 10**9)])
        assert reply[:2] == [3, "big"]
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.meter_start_wh == 5 * 10**9
