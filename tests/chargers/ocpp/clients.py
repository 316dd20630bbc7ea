"""A real OCPP 1.6 charger for tests: the `ocpp` library's charge point side on `websockets`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from datetime import UTC, datetime
from urllib.parse import quote

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

PASSWORD = "charger-password-0123"


def basic(identity: str, password: str) -> dict:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def now() -> str:
    return datetime.now(UTC).isoformat()


class TestCharger(ChargePoint):
    """Answers every CSMS command; tests read `received` and may set `replies` or `delay`, or
    clear `answering` to hold every answer until they set it again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.replies: dict[str, object] = {}
        self.delay = 0.0
        self.answering = asyncio.Event()
        self.answering.set()
        self.in_flight = self.most_in_flight = 0

    async def start(self):
        # Serve each message in a task of its own, as chargers with a slow command do: a
        # delayed answer must not hold up the replies to our own calls.
        while True:
            message = await self._connection.recv()
            task = asyncio.create_task(self.route_message(message))
            self._tasks = getattr(self, "_tasks", set())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, action: str, payload: dict, default):
        self.received.append((action, payload))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.answering.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        reply = self.replies.get(action, default)
        if isinstance(reply, Exception):
            raise reply
        return reply

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, **kw):
        return await self._answer(
            "RemoteStartTransaction", kw, call_result.RemoteStartTransaction(status="Accepted")
        )

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, **kw):
        return await self._answer(
            "RemoteStopTransaction", kw, call_result.RemoteStopTransaction(status="Accepted")
        )

    @on(Action.reset)
    async def on_reset(self, **kw):
        return await self._answer("Reset", kw, call_result.Reset(status="Accepted"))

    @on(Action.unlock_connector)
    async def on_unlock(self, **kw):
        return await self._answer(
            "UnlockConnector", kw, call_result.UnlockConnector(status="Unlocked")
        )

    @on(Action.change_availability)
    async def on_change_availability(self, **kw):
        return await self._answer(
            "ChangeAvailability", kw, call_result.ChangeAvailability(status="Accepted")
        )

    @on(Action.change_configuration)
    async def on_change_configuration(self, **kw):
        return await self._answer(
            "ChangeConfiguration", kw, call_result.ChangeConfiguration(status="Accepted")
        )

    @on(Action.get_configuration)
    async def on_get_configuration(self, **kw):
        keys = [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "AuthorizationKey", "readonly": False, "value": "secret-in-reply-123"},
        ]
        return await self._answer(
            "GetConfiguration", kw, call_result.GetConfiguration(configuration_key=keys)
        )

    @on(Action.clear_cache)
    async def on_clear_cache(self, **kw):
        return await self._answer("ClearCache", kw, call_result.ClearCache(status="Accepted"))

    @on(Action.trigger_message)
    async def on_trigger(self, **kw):
        return await self._answer(
            "TriggerMessage", kw, call_result.TriggerMessage(status="Accepted")
        )

    @on(Action.data_transfer)
    async def on_data_transfer(self, **kw):
        return await self._answer(
            "DataTransfer", kw, call_result.DataTransfer(status="Accepted", data="pong")
        )

    @on(Action.get_local_list_version)
    async def on_get_local_list_version(self, **kw):
        return await self._answer(
            "GetLocalListVersion", kw, call_result.GetLocalListVersion(list_version=3)
        )

    @on(Action.send_local_list)
    async def on_send_local_list(self, **kw):
        return await self._answer("SendLocalList", kw, call_result.SendLocalList(status="Accepted"))

    @on(Action.reserve_now)
    async def on_reserve_now(self, **kw):
        return await self._answer("ReserveNow", kw, call_result.ReserveNow(status="Accepted"))

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, **kw):
        return await self._answer(
            "CancelReservation", kw, call_result.CancelReservation(status="Accepted")
        )

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(self, **kw):
        return await self._answer(
            "SetChargingProfile", kw, call_result.SetChargingProfile(status="Accepted")
        )

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(self, **kw):
        return await self._answer(
            "ClearChargingProfile", kw, call_result.ClearChargingProfile(status="Accepted")
        )

    @on(Action.get_composite_schedule)
    async def on_get_composite_schedule(self, **kw):
        return await self._answer(
            "GetCompositeSchedule", kw, call_result.GetCompositeSchedule(status="Rejected")
        )

    @on(Action.update_firmware)
    async def on_update_firmware(self, **kw):
        return await self._answer("UpdateFirmware", kw, call_result.UpdateFirmware())

    @on(Action.get_diagnostics)
    async def on_get_diagnostics(self, **kw):
        return await self._answer(
            "GetDiagnostics", kw, call_result.GetDiagnostics(file_name="diag.txt")
        )

    @on(Action.extended_trigger_message)
    async def on_extended_trigger(self, **kw):
        return await self._answer(
            "ExtendedTriggerMessage", kw, call_result.ExtendedTriggerMessage(status="Accepted")
        )

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, **kw):
        return await self._answer(
            "CertificateSigned", kw, call_result.CertificateSigned(status="Accepted")
        )

    @on(Action.install_certificate)
    async def on_install_certificate(self, **kw):
        return await self._answer(
            "InstallCertificate", kw, call_result.InstallCertificate(status="Accepted")
        )

    @on(Action.get_installed_certificate_ids)
    async def on_get_installed_certificate_ids(self, **kw):
        return await self._answer(
            "GetInstalledCertificateIds",
            kw,
            call_result.GetInstalledCertificateIds(status="NotFound"),
        )

    @on(Action.delete_certificate)
    async def on_delete_certificate(self, **kw):
        return await self._answer(
            "DeleteCertificate", kw, call_result.DeleteCertificate(status="Accepted")
        )

    @on(Action.get_log)
    async def on_get_log(self, **kw):
        return await self._answer("GetLog", kw, call_result.GetLog(status="Accepted"))

    @on(Action.signed_update_firmware)
    async def on_signed_update_firmware(self, **kw):
        return await self._answer(
            "SignedUpdateFirmware", kw, call_result.SignedUpdateFirmware(status="Accepted")
        )

    async def boot(self, **extra):
        return await self.call(
            call.BootNotification(
                charge_point_vendor=extra.pop("vendor", "Acme"),
                charge_point_model=extra.pop("model", "Wallbox 22"),
                **extra,
            )
        )


@contextlib.asynccontextmanager
async def connected(
    server: str,
    tenant: str,
    identity: str,
    password: str = PASSWORD,
    subprotocols=("ocpp1.6",),
    charger_class=TestCharger,
    headers: dict | None = None,
):
    """A charger connected and serving the CSMS's calls; closed afterwards."""
    url = f"{server}/ocpp/{tenant}/{quote(identity, safe='')}"
    async with websockets.connect(
        url,
        subprotocols=list(subprotocols),
        additional_headers=basic(identity, password) | (headers or {}),
        open_timeout=10,
    ) as ws:
        charger = charger_class(identity, ws, response_timeout=10)
        task = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@contextlib.asynccontextmanager
async def raw_socket(
    server: str, tenant: str, identity: str, password: str = PASSWORD, subprotocol="ocpp1.6"
):
    """A bare socket for frames the library would never send."""
    url = f"{server}/ocpp/{tenant}/{quote(identity, safe='')}"
    async with websockets.connect(
        url,
        subprotocols=[subprotocol],
        additional_headers=basic(identity, password),
        open_timeout=10,
        max_size=None,
    ) as ws:
        yield ws


async def exchange(ws, frame) -> list:
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def refused_status(
    server: str, tenant: str, identity: str, headers: dict | None = None, subprotocols=("ocpp1.6",)
) -> int | None:
    """The HTTP status of a refused upgrade, or None when the socket was accepted."""
    url = f"{server}/ocpp/{tenant}/{quote(identity, safe='')}"
    try:
        async with websockets.connect(
            url, subprotocols=list(subprotocols), additional_headers=headers or {}, open_timeout=10
        ):
            return None
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code
