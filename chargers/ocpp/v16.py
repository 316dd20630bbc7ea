"""OCPP 1.6J: translate each message, call one service, build the reply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from chargers import costs
from chargers.commands import asend_command
from chargers.models import Charger, EventKind
from chargers.ocpp import JsonDict, builders
from chargers.ocpp.base import CentralSystem
from chargers.ocpp.errors import CallRefused
from chargers.ocpp.frames import parse_timestamp
from chargers.ocpp.rpc import handles
from chargers.ocpp.samples import samples_16
from chargers.selectors.tokens import TokenInfo, id_token_verdict
from chargers.services.reports import (
    connector_status_record,
)
from chargers.services.sessions import meter_values_record, session_start, session_stop


def id_tag_info(token: TokenInfo) -> JsonDict:
    info: JsonDict = {"status": token.status}
    if token.expires_at is not None:
        info["expiryDate"] = token.expires_at.isoformat()
    if token.group_uid:
        info["parentIdTag"] = token.group_uid
    return info


def evse_of(connector_id: int) -> tuple[int, int]:
    """1.6 connector N is EVSE N with one connector; connector 0 is the charger itself."""
    return connector_id, (1 if connector_id else 0)


class Authorized(NamedTuple):
    token: TokenInfo
    # The SetUserPrice to send after the answer, when one applies.
    price: tuple[Charger, builders.Request] | None
    # Whether the charger shows costs, when it was read (None: not needed, not read).
    shows_costs: bool | None


def authorized(*, charger_id: int, id_tag: str, shows_costs: bool | None) -> Authorized:
    """The token's verdict and, when accepted and this charger shows costs (California
    Pricing) and a tariff prices the token here, the driver's SetUserPrice, in one trip to the
    database thread (a trip of its own after each Authorize cost a commit). `shows_costs` is
    what the socket remembers of the charger's configuration; None reads it."""
    token = id_token_verdict(id_tag=id_tag)
    if token.status != "Accepted":
        return Authorized(token, None, shows_costs)
    charger = None
    if shows_costs is None:
        charger = Charger.objects.get(pk=charger_id)
        shows_costs = builders.shows_costs(charger)
    if not shows_costs:
        return Authorized(token, None, shows_costs)
    text = costs.price_text(charger_id=charger_id, evse_id=None, token=token.token)
    if text is None:
        return Authorized(token, None, shows_costs)
    charger = charger or Charger.objects.get(pk=charger_id)
    request = builders.user_price(charger, id_tag=id_tag, price_text=text.text)
    return Authorized(token, (charger, request), shows_costs)


class CentralSystem16(CentralSystem):
    version = "1.6"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whether the charger shows costs, read at the first accepted Authorize: reading the
        # charger and its configuration replies at every one cost two queries a call. What
        # may change the answer (a configuration reply recorded, a boot) forgets it, and
        # bumps the epoch so that an Authorize read before the change does not store it back.
        self._shows_costs: bool | None = None
        self._configuration_epoch = 0

    def configuration_changed(self) -> None:
        self._shows_costs = None
        self._configuration_epoch += 1

    @handles("BootNotification")
    async def boot_notification(self, payload: JsonDict) -> JsonDict:
        reported = {
            "vendor": payload["chargePointVendor"],
            "model": payload["chargePointModel"],
            "serial_number": payload.get("chargePointSerialNumber"),
            "charge_box_serial_number": payload.get("chargeBoxSerialNumber"),
            "firmware_version": payload.get("firmwareVersion"),
            "iccid": payload.get("iccid"),
            "imsi": payload.get("imsi"),
            "meter_type": payload.get("meterType"),
            "meter_serial_number": payload.get("meterSerialNumber"),
        }
        return await self._boot(reported)

    @handles("StatusNotification")
    async def status_notification(self, payload: JsonDict) -> JsonDict:
        evse_id, connector = evse_of(payload["connectorId"])
        error_code = payload["errorCode"]
        timestamp = payload.get("timestamp")
        await self.db(connector_status_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            connector_id=connector,
            status=payload["status"],
            error_code="" if error_code == "NoError" else error_code,
            info=payload.get("info"),
            vendor_id=payload.get("vendorId"),
            vendor_error_code=payload.get("vendorErrorCode"),
            timestamp=parse_timestamp(timestamp) if timestamp else None,
        )
        return {}

    @handles("Authorize")
    async def authorize(self, payload: JsonDict) -> JsonDict:
        epoch = self._configuration_epoch
        token, price, shows_costs = await self.db(authorized)(
            charger_id=self.charger_id, id_tag=payload["idTag"], shows_costs=self._shows_costs
        )
        if epoch == self._configuration_epoch:
            self._shows_costs = shows_costs
        if price is not None:
            # The OCA's California Pricing whitepaper: the driver's price reaches the screen
            # once their token is accepted, before charging; sent after this answer, unawaited.
            charger, request = price

            async def send_price() -> None:
                await asend_command(charger, request.action, request.payload, wait=False)

            self.after_answer(send_price)
        return {"idTagInfo": id_tag_info(token)}

    @handles("StartTransaction")
    async def start_transaction(self, payload: JsonDict) -> JsonDict:
        connector_id = payload["connectorId"]
        if connector_id < 1:
            raise CallRefused("property", "A transaction starts on a connector numbered from 1.")
        answer = await self.db(session_start)(
            charger_id=self.charger_id,
            connector_id=connector_id,
            id_tag=payload["idTag"],
            meter_start=payload["meterStart"],
            timestamp=parse_timestamp(payload["timestamp"]),
            reservation_id=payload.get("reservationId"),
        )
        return {
            "transactionId": int(answer.session.transaction_id),
            "idTagInfo": id_tag_info(answer.token),
        }

    @handles("StopTransaction")
    async def stop_transaction(self, payload: JsonDict) -> JsonDict:
        _, token = await self.db(session_stop)(
            charger_id=self.charger_id,
            transaction_id=str(payload["transactionId"]),
            meter_stop=Decimal(payload["meterStop"]),
            timestamp=parse_timestamp(payload["timestamp"]),
            reason=payload.get("reason") or "Local",
            id_tag=payload.get("idTag") or "",
            samples=samples_16(payload.get("transactionData") or []),
            payload=payload,
        )
        return {} if token is None else {"idTagInfo": id_tag_info(token)}

    @handles("MeterValues")
    async def meter_values(self, payload: JsonDict) -> JsonDict:
        evse_id, _ = evse_of(payload["connectorId"])
        transaction_id = payload.get("transactionId")
        await self.db(meter_values_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            transaction_id=str(transaction_id) if transaction_id is not None else None,
            samples=samples_16(payload["meterValue"]),
            payload=payload,
        )
        return {}

    @handles("DataTransfer")
    async def data_transfer(self, payload: JsonDict) -> JsonDict:
        # No vendor extensions are installed: keep the message and say so, as 1.6 prescribes.
        summary = f"{payload['vendorId']} {payload.get('messageId') or ''}".strip()
        await self._event(EventKind.DATA_TRANSFER, summary, payload)
        return {"status": "UnknownVendorId"}

    @handles("DiagnosticsStatusNotification")
    async def diagnostics_status_notification(self, payload: JsonDict) -> JsonDict:
        await self._reported_status("diagnostics_status", EventKind.DIAGNOSTICS_STATUS, payload)
        return {}

    @handles("LogStatusNotification")
    async def log_status_notification(self, payload: JsonDict) -> JsonDict:
        await self._reported_status("diagnostics_status", EventKind.LOG_STATUS, payload)
        return {}

    @handles("SignedFirmwareStatusNotification")
    async def signed_firmware_status_notification(self, payload: JsonDict) -> JsonDict:
        await self._reported_status("firmware_status", EventKind.SIGNED_FIRMWARE_STATUS, payload)
        return {}
