"""The baseline: a bare central system built only from the `ocpp` library and `websockets`.

It answers every message the load sends, with the library's own schema validation, and persists
nothing, so the project's figures can be read as "what persistence, tenancy and Channels cost on
top of the library". Run it as `python -m bench.baseline --port P`; the benchmark starts it in a
process of its own.

Chargers connect to `/ocpp/<anything>/<charge point id>`. Commands reach them through
`/control`: a WebSocket on which each text frame `{"charger", "action", "payload"}` is sent to
that charger with the library's `call()` and answered with `{"status", "response"}`, the bare
counterpart of the project's `asend_command` from another process.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import signal

from ocpp.charge_point import camel_to_snake_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from bench.frames import now
from bench.load import raise_open_files_limit

HEARTBEAT_INTERVAL = 300
connected: dict[str, BareCentralSystem | BareCentralSystem201] = {}
transaction_ids = itertools.count(1)


class BareCentralSystem(ChargePoint):
    @on(Action.boot_notification)
    async def on_boot_notification(self, charge_point_vendor, charge_point_model, **optional):
        return call_result.BootNotification(
            current_time=now(), interval=HEARTBEAT_INTERVAL, status="Accepted"
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id, error_code, status, **optional):
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag):
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, **optional):
        return call_result.StartTransaction(
            transaction_id=next(transaction_ids), id_tag_info={"status": "Accepted"}
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, meter_stop, timestamp, transaction_id, **optional):
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id, meter_value, **optional):
        return call_result.MeterValues()


class BareCentralSystem201(ChargePoint201):
    """The same for 2.0.1 chargers: what the 2.0.1 sessions scenario sends."""

    @on("BootNotification")
    async def on_boot_notification(self, charging_station, reason, **optional):
        return result201.BootNotification(
            current_time=now(), interval=HEARTBEAT_INTERVAL, status="Accepted"
        )

    @on("Heartbeat")
    async def on_heartbeat(self):
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    async def on_status_notification(self, timestamp, connector_status, evse_id, connector_id):
        return result201.StatusNotification()

    @on("Authorize")
    async def on_authorize(self, id_token, **optional):
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(
        self, event_type, timestamp, trigger_reason, seq_no, transaction_info, **optional
    ):
        # As the project does: the token's verdict when the event names one.
        if "id_token" in optional:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    @on("MeterValues")
    async def on_meter_values(self, evse_id, meter_value):
        return result201.MeterValues()


async def control(ws: ServerConnection) -> None:
    """Relay commands to connected chargers, one request at a time per control socket."""
    async for raw in ws:
        request = json.loads(raw)
        charger = connected.get(request["charger"])
        if charger is None:
            await ws.send(json.dumps({"status": "offline"}))
            continue
        payload = getattr(call, request["action"])(**camel_to_snake_case(request["payload"]))
        try:
            response = await charger.call(payload)
        except TimeoutError:
            await ws.send(json.dumps({"status": "timeout"}))
            continue
        await ws.send(json.dumps({"status": "answered", "response": str(response)}))


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path.rstrip("/")
    if path == "/control":
        await control(ws)
        return
    identity = path.rsplit("/", 1)[-1]
    kind = BareCentralSystem201 if ws.subprotocol == "ocpp2.0.1" else BareCentralSystem
    charger = kind(identity, ws, response_timeout=30)
    connected[identity] = charger
    try:
        await charger.start()
    except ConnectionClosed:
        pass
    finally:
        if connected.get(identity) is charger:
            del connected[identity]


async def main(host: str, port: int) -> None:
    stopping = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set_result, None)
    async with serve(
        handler,
        host,
        port,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],
        compression=None,
        ping_interval=60,
        ping_timeout=120,
        max_size=1024 * 1024,
    ):
        await stopping


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    # The library logs every frame at INFO; the baseline should spend nothing on logs.
    logging.basicConfig(level=logging.WARNING)
    raise_open_files_limit()
    asyncio.run(main(options.host, options.port))


if __name__ == "__main__":
    run()
