"""OCPP 1.6J: translate each message, call one service, build the reply."""

from __future__ import annotations

from decimal import Decimal

from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from chargers.metering import ENERGY, to_decimal
from chargers.models import EventKind
from chargers.ocpp.base import (
    CRITICAL_SECURITY_EVENTS,
    CentralSystemMixin,
    now_iso,
    parse_timestamp,
)
from chargers.selectors.tokens import TokenInfo, id_token_verdict
from chargers.services.reports import (
    charger_boot_record,
    charger_event_record,
    charger_set_reported_status,
    connector_status_record,
)
from chargers.services.sessions import meter_values_record, session_start, session_stop


def id_tag_info(token: TokenInfo) -> dict:
    info = {"status": token.status}
    if token.expires_at is not None:
        info["expiry_date"] = token.expires_at.isoformat()
    if token.group_uid:
        info["parent_id_tag"] = token.group_uid
    return info


def samples(meter_value: list[dict]) -> list[dict]:
    """1.6 meterValue entries as normalised samples, with the standard's defaults made explicit
    so that a resend with and without defaults is recognised as the same sample."""
    result = []
    for entry in meter_value:
        at = parse_timestamp(entry["timestamp"])
        for sampled in entry["sampled_value"]:
            measurand = sampled.get("measurand") or ENERGY
            raw = sampled["value"]
            signed = sampled.get("format") == "SignedData"
            value = None if signed else to_decimal(raw)
            result.append(
                {
                    "timestamp": at,
                    "measurand": measurand,
                    "phase": sampled.get("phase") or "",
                    "location": sampled.get("location") or "Outlet",
                    "context": sampled.get("context") or "Sample.Periodic",
                    "unit": sampled.get("unit") or ("Wh" if measurand.startswith("Energy") else ""),
                    "value": value,
                    # Signed values, and raw ones that are not numbers, are kept verbatim.
                    "signed_data": raw if value is None else "",
                }
            )
    return result


def evse_of(connector_id: int) -> tuple[int, int]:
    """1.6 connector N is EVSE N with one connector; connector 0 is the charger itself."""
    return connector_id, (1 if connector_id else 0)


class CentralSystem16(CentralSystemMixin, ChargePoint):
    version = "1.6"
    known_actions = frozenset(a.value for a in Action)

    @on(Action.boot_notification, skip_schema_validation=True)
    async def on_boot_notification(self, charge_point_vendor, charge_point_model, **optional):
        reported = {
            "vendor": charge_point_vendor,
            "model": charge_point_model,
            "serial_number": optional.get("charge_point_serial_number"),
            "charge_box_serial_number": optional.get("charge_box_serial_number"),
            "firmware_version": optional.get("firmware_version"),
            "iccid": optional.get("iccid"),
            "imsi": optional.get("imsi"),
            "meter_type": optional.get("meter_type"),
            "meter_serial_number": optional.get("meter_serial_number"),
        }
        answer = await self.db(charger_boot_record)(charger_id=self.charger_id, reported=reported)
        self.registration_status = answer.status
        return call_result.BootNotification(
            current_time=now_iso(), interval=answer.interval, status=answer.status
        )

    @on(Action.heartbeat, skip_schema_validation=True)
    async def on_heartbeat(self):
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification, skip_schema_validation=True)
    async def on_status_notification(self, connector_id, error_code, status, **optional):
        evse_id, connector = evse_of(connector_id)
        timestamp = optional.get("timestamp")
        await self.db(connector_status_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            connector_id=connector,
            status=status,
            error_code="" if error_code == "NoError" else error_code,
            info=optional.get("info"),
            vendor_id=optional.get("vendor_id"),
            vendor_error_code=optional.get("vendor_error_code"),
            timestamp=parse_timestamp(timestamp) if timestamp else None,
        )
        return call_result.StatusNotification()

    @on(Action.authorize, skip_schema_validation=True)
    async def on_authorize(self, id_tag):
        token = await self.db(id_token_verdict)(id_tag=id_tag)
        return call_result.Authorize(id_tag_info=id_tag_info(token))

    @on(Action.start_transaction, skip_schema_validation=True)
    async def on_start_transaction(
        self, connector_id, id_tag, meter_start, timestamp, reservation_id=None
    ):
        if connector_id < 1:
            raise PropertyConstraintViolationError(
                description="A transaction starts on a connector numbered from 1."
            )
        answer = await self.db(session_start)(
            charger_id=self.charger_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=parse_timestamp(timestamp),
            reservation_id=reservation_id,
        )
        return call_result.StartTransaction(
            transaction_id=int(answer.session.transaction_id), id_tag_info=id_tag_info(answer.token)
        )

    @on(Action.stop_transaction, skip_schema_validation=True)
    async def on_stop_transaction(self, meter_stop, timestamp, transaction_id, **optional):
        id_tag = optional.get("id_tag") or ""
        _, token = await self.db(session_stop)(
            charger_id=self.charger_id,
            transaction_id=str(transaction_id),
            meter_stop=Decimal(meter_stop),
            timestamp=parse_timestamp(timestamp),
            reason=optional.get("reason") or "Local",
            id_tag=id_tag,
            samples=samples(optional.get("transaction_data") or []),
            payload=self._payload,
        )
        if token is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=id_tag_info(token))

    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, connector_id, meter_value, transaction_id=None):
        evse_id, _ = evse_of(connector_id)
        await self.db(meter_values_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            transaction_id=str(transaction_id) if transaction_id is not None else None,
            samples=samples(meter_value),
            payload=self._payload,
        )
        return call_result.MeterValues()

    @on(Action.data_transfer, skip_schema_validation=True)
    async def on_data_transfer(self, vendor_id, message_id=None, data=None):
        # No vendor extensions are installed: keep the message and say so, as 1.6 prescribes.
        await self._event(EventKind.DATA_TRANSFER, f"{vendor_id} {message_id or ''}".strip())
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.diagnostics_status_notification, skip_schema_validation=True)
    async def on_diagnostics_status_notification(self, status):
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id, field="diagnostics_status", value=status
        )
        await self._event(EventKind.DIAGNOSTICS_STATUS, status)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification, skip_schema_validation=True)
    async def on_firmware_status_notification(self, status):
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id, field="firmware_status", value=status
        )
        await self._event(EventKind.FIRMWARE_STATUS, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.security_event_notification, skip_schema_validation=True)
    async def on_security_event_notification(self, type, timestamp, tech_info=None):
        await self.db(charger_event_record)(
            charger_id=self.charger_id,
            kind=EventKind.SECURITY_EVENT,
            summary=type,
            payload=self._payload,
            critical=type in CRITICAL_SECURITY_EVENTS,
            at=parse_timestamp(timestamp),
        )
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate, skip_schema_validation=True)
    async def on_sign_certificate(self, csr):
        # Policy until a certificate authority is configured: keep the CSR for the operator
        # and answer Rejected, so the charger keeps its current certificate.
        await self._event(EventKind.SIGN_CERTIFICATE, "CSR received; no CA configured")
        return call_result.SignCertificate(status="Rejected")

    @on(Action.log_status_notification, skip_schema_validation=True)
    async def on_log_status_notification(self, status, request_id=None):
        await self._event(EventKind.LOG_STATUS, status)
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification, skip_schema_validation=True)
    async def on_signed_firmware_status_notification(self, status, request_id=None):
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id, field="firmware_status", value=status
        )
        await self._event(EventKind.SIGNED_FIRMWARE_STATUS, status)
        return call_result.SignedFirmwareStatusNotification()

    async def _event(self, kind: str, summary: str) -> None:
        await self.db(charger_event_record)(
            charger_id=self.charger_id, kind=kind, summary=summary, payload=self._payload
        )
