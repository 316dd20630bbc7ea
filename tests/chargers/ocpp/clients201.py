"""A real OCPP 2.0.1 (or 2.1) charger for tests: the `ocpp` library's charge point side."""

from __future__ import annotations

import asyncio
import uuid

from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as results21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as results201

from tests.chargers.ocpp.clients import connected, now

VARIABLE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}

# Every CSMS-to-charger action of 2.0.1 and the reply a cooperative charger gives.
REPLIES = {
    "RequestStartTransaction": {"status": "Accepted"},
    "RequestStopTransaction": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "ChangeAvailability": {"status": "Accepted"},
    "GetVariables": {
        "get_variable_result": [
            {"attribute_status": "Accepted", "attribute_value": "300", **VARIABLE}
        ]
    },
    "SetVariables": {"set_variable_result": [{"attribute_status": "Accepted", **VARIABLE}]},
    "GetBaseReport": {"status": "Accepted"},
    "GetReport": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "GetChargingProfiles": {"status": "NoProfiles"},
    "GetCompositeSchedule": {"status": "Rejected"},
    "UpdateFirmware": {"status": "Accepted"},
    "GetLog": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "GetLocalListVersion": {"version_number": 0},
    "ClearCache": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
    "SetDisplayMessage": {"status": "Accepted"},
    "GetDisplayMessages": {"status": "Unknown"},
    "ClearDisplayMessage": {"status": "Accepted"},
    "CostUpdated": {},
    "GetTransactionStatus": {"messages_in_queue": False},
    "SetNetworkProfile": {"status": "Accepted"},
    "CustomerInformation": {"status": "Accepted"},
    "SetVariableMonitoring": {
        "set_monitoring_result": [
            {"status": "Accepted", "type": "Delta", "severity": 5, "id": 1, **VARIABLE}
        ]
    },
    "SetMonitoringBase": {"status": "Accepted"},
    "SetMonitoringLevel": {"status": "Accepted"},
    "ClearVariableMonitoring": {"clear_monitoring_result": [{"status": "Accepted", "id": 1}]},
    "InstallCertificate": {"status": "Accepted"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "DeleteCertificate": {"status": "Accepted"},
    "CertificateSigned": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted"},
}


def _answers(action: str):
    async def handler(self, **payload):
        self.received.append((action, payload))
        if self.delay:
            await asyncio.sleep(self.delay)
        return getattr(self.results, action)(**REPLIES[action])

    # The library finds handlers by function name, registered when `on` runs.
    handler.__name__ = f"on_{action}"
    return on(action)(handler)


class _Answering:
    __test__ = False  # not a pytest class, despite its subclasses' names
    results = results201
    calls = call201

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.delay = 0.0

    async def start(self):
        # Each message in its own task, so a slow answer never delays replies to our calls.
        self._tasks = set()
        while True:
            task = asyncio.create_task(self.route_message(await self._connection.recv()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def boot(self, reason="PowerUp", **station):
        return await self.call(
            self.calls.BootNotification(
                charging_station={"vendor_name": "Acme", "model": "Wallbox 22", **station},
                reason=reason,
            )
        )

    async def tx(
        self,
        event_type,
        seq_no,
        transaction_id,
        *,
        trigger="Authorized",
        timestamp=None,
        id_token=None,
        evse=1,
        meter=None,
        offline=False,
        **info,
    ):
        """A TransactionEvent with optional energy reading (Wh) and id token."""
        extra = {}
        if id_token:
            extra["id_token"] = {"id_token": id_token, "type": "ISO14443"}
        if meter is not None:
            context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
                event_type, "Sample.Periodic"
            )
            extra["meter_value"] = [
                {
                    "timestamp": timestamp or now(),
                    "sampled_value": [
                        {
                            "value": meter,
                            "context": context,
                            "measurand": "Energy.Active.Import.Register",
                        }
                    ],
                }
            ]
        return await self.call(
            self.calls.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp or now(),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info={"transaction_id": transaction_id, **info},
                evse={"id": evse, "connector_id": 1},
                offline=offline,
                **extra,
            ),
            suppress=False,
        )


class TestCharger201(_Answering, ChargePoint201):
    pass


for _action in REPLIES:
    setattr(TestCharger201, f"on_{_action}", _answers(_action))


class TestCharger21(_Answering, ChargePoint21):
    results = results21
    calls = call21


for _action in REPLIES:
    setattr(TestCharger21, f"on_{_action}", _answers(_action))


def new_transaction_id() -> str:
    return str(uuid.uuid4())


def connected201(*where, subprotocols=("ocpp2.0.1",), charger_class=TestCharger201, **how):
    """A 2.0.1 (or, with TestCharger21, 2.1) charger connected and serving the CSMS's calls:
    `connected`, whose arguments it takes, with 2.0.1's subprotocol and charger."""
    return connected(*where, subprotocols=subprotocols, charger_class=charger_class, **how)
