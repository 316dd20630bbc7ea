"""OCPP 2.0.1 (and 2.1, which shares these messages): translate, call one service, reply.

Sessions, samples, statuses, tokens and commands land in the same tables as 1.6; what only
2.0.1 has (the device model) gets its own. Notifications without state of their own are kept
verbatim as charger events.
"""

from __future__ import annotations

from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call_result as results21
from ocpp.v21.enums import Action as Action21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as results201
from ocpp.v201.enums import Action as Action201

from chargers.metering import ENERGY, to_decimal
from chargers.models import EventKind
from chargers.ocpp.base import (
    CRITICAL_SECURITY_EVENTS,
    CentralSystemMixin,
    now_iso,
    parse_timestamp,
)
from chargers.selectors.tokens import TokenInfo, id_token_verdict
from chargers.services.device_model import device_model_store
from chargers.services.reports import (
    charger_boot_record,
    charger_event_record,
    charger_set_reported_status,
    connector_status_record,
)
from chargers.services.sessions import meter_values_record, session_event_record


def id_token_info(token: TokenInfo) -> dict:
    # 2.0.1 distinguishes a token nobody knows (Unknown) from one that is not valid (Invalid).
    info = {"status": "Unknown" if token.token is None else token.status}
    if token.expires_at is not None:
        info["cache_expiry_date_time"] = token.expires_at.isoformat()
    if token.group_uid:
        info["group_id_token"] = {"id_token": token.group_uid, "type": "Central"}
    return info


def samples(meter_value: list[dict]) -> list[dict]:
    """2.0.1 meterValue entries (camelCase, as sent) as normalised samples, with the
    standard's defaults made explicit and the unit multiplier applied."""
    result = []
    for entry in meter_value:
        at = parse_timestamp(entry["timestamp"])
        for sampled in entry["sampledValue"]:
            measurand = sampled.get("measurand") or ENERGY
            unit = sampled.get("unitOfMeasure") or {}
            value = to_decimal(sampled["value"])
            multiplier = unit.get("multiplier", 0)
            if value is not None and multiplier:
                value = value.scaleb(multiplier)
            signed = sampled.get("signedMeterValue") or {}
            result.append(
                {
                    "timestamp": at,
                    "measurand": measurand,
                    "phase": sampled.get("phase") or "",
                    "location": sampled.get("location") or "Outlet",
                    "context": sampled.get("context") or "Sample.Periodic",
                    "unit": unit.get("unit") or ("Wh" if measurand.startswith("Energy") else ""),
                    "value": value,
                    "signed_data": signed.get("signedMeterData", ""),
                }
            )
    return result


def _keep(action: str, kind: str, reply: str, **reply_fields):
    """A handler for a notification that is kept verbatim and acknowledged.

    Assign it to a class attribute named `on_<Action>`: the library finds handlers by the
    function's name, which must be set before `on` registers it.
    """

    async def handler(self, **_):
        await self._event(kind, self._summary(action))
        return getattr(self.results, reply)(**reply_fields)

    handler.__name__ = handler.__qualname__ = f"on_{action}"
    return on(action, skip_schema_validation=True)(handler)


class CentralSystem201Mixin:
    """The handlers, shared by 2.0.1 and 2.1; `results` is the version's call_result module."""

    results = results201

    @on("BootNotification", skip_schema_validation=True)
    async def on_boot_notification(self, charging_station, reason, **_):
        station = self._payload["chargingStation"]
        modem = station.get("modem") or {}
        reported = {
            "vendor": station.get("vendorName"),
            "model": station.get("model"),
            "serial_number": station.get("serialNumber"),
            "firmware_version": station.get("firmwareVersion"),
            "iccid": modem.get("iccid"),
            "imsi": modem.get("imsi"),
        }
        answer = await self.db(charger_boot_record)(
            charger_id=self.charger_id, reported=reported, reason=reason
        )
        self.registration_status = answer.status
        return self.results.BootNotification(
            current_time=now_iso(), interval=answer.interval, status=answer.status
        )

    @on("Heartbeat", skip_schema_validation=True)
    async def on_heartbeat(self, **_):
        return self.results.Heartbeat(current_time=now_iso())

    @on("StatusNotification", skip_schema_validation=True)
    async def on_status_notification(self, timestamp, connector_status, evse_id, connector_id, **_):
        await self.db(connector_status_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=connector_status,
            timestamp=parse_timestamp(timestamp),
        )
        return self.results.StatusNotification()

    @on("Authorize", skip_schema_validation=True)
    async def on_authorize(self, id_token, **optional):
        token = await self.db(id_token_verdict)(id_tag=self._payload["idToken"]["idToken"])
        reply = {"id_token_info": id_token_info(token)}
        # Policy until a certificate authority and OCSP responder are configured: the contract
        # is authorised by its token alone, and the certificate is reported as unverifiable.
        if "certificate" in self._payload or "iso15118CertificateHashData" in self._payload:
            reply["certificate_status"] = "NoCertificateAvailable"
        return self.results.Authorize(**reply)

    @on("TransactionEvent", skip_schema_validation=True)
    async def on_transaction_event(
        self, event_type, timestamp, trigger_reason, seq_no, transaction_info, **_
    ):
        raw = self._payload
        info = raw["transactionInfo"]
        evse = raw.get("evse") or {}
        id_token = (raw.get("idToken") or {}).get("idToken")
        answer = await self.db(session_event_record)(
            charger_id=self.charger_id,
            transaction_id=info["transactionId"],
            event_type=event_type,
            seq_no=seq_no,
            timestamp=parse_timestamp(timestamp),
            trigger_reason=trigger_reason,
            offline=raw.get("offline", False),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
            id_tag=id_token,
            charging_state=info.get("chargingState"),
            stopped_reason=info.get("stoppedReason"),
            remote_start_id=info.get("remoteStartId"),
            reservation_id=raw.get("reservationId"),
            samples=samples(raw.get("meterValue") or []),
        )
        if answer.token is None:
            return self.results.TransactionEvent()
        return self.results.TransactionEvent(id_token_info=id_token_info(answer.token))

    @on("MeterValues", skip_schema_validation=True)
    async def on_meter_values(self, evse_id, meter_value, **_):
        await self.db(meter_values_record)(
            charger_id=self.charger_id,
            evse_id=evse_id,
            transaction_id=None,
            samples=samples(self._payload["meterValue"]),
            payload=self._payload,
        )
        return self.results.MeterValues()

    @on("NotifyReport", skip_schema_validation=True)
    async def on_notify_report(self, request_id, generated_at, seq_no, **_):
        await self.db(device_model_store)(
            charger_id=self.charger_id, report_data=self._payload.get("reportData") or []
        )
        return self.results.NotifyReport()

    @on("SecurityEventNotification", skip_schema_validation=True)
    async def on_security_event_notification(self, type, timestamp, **_):
        await self.db(charger_event_record)(
            charger_id=self.charger_id,
            kind=EventKind.SECURITY_EVENT,
            summary=type,
            payload=self._payload,
            critical=type in CRITICAL_SECURITY_EVENTS,
            at=parse_timestamp(timestamp),
        )
        return self.results.SecurityEventNotification()

    @on("FirmwareStatusNotification", skip_schema_validation=True)
    async def on_firmware_status_notification(self, status, **_):
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id, field="firmware_status", value=status
        )
        await self._event(EventKind.FIRMWARE_STATUS, status)
        return self.results.FirmwareStatusNotification()

    @on("LogStatusNotification", skip_schema_validation=True)
    async def on_log_status_notification(self, status, **_):
        await self.db(charger_set_reported_status)(
            charger_id=self.charger_id, field="diagnostics_status", value=status
        )
        await self._event(EventKind.LOG_STATUS, status)
        return self.results.LogStatusNotification()

    @on("DataTransfer", skip_schema_validation=True)
    async def on_data_transfer(self, vendor_id, **_):
        # No vendor extensions are installed: keep the message and say so.
        await self._event(EventKind.DATA_TRANSFER, vendor_id)
        return self.results.DataTransfer(status="UnknownVendorId")

    @on("SignCertificate", skip_schema_validation=True)
    async def on_sign_certificate(self, csr, **_):
        # Policy until a certificate authority is configured: keep the CSR, answer Rejected.
        await self._event(EventKind.SIGN_CERTIFICATE, "CSR received; no CA configured")
        return self.results.SignCertificate(status="Rejected")

    @on("Get15118EVCertificate", skip_schema_validation=True)
    async def on_get_15118_ev_certificate(self, **_):
        # Policy: no contract certificate pool is connected yet (Plug & Charge comes later).
        await self._event(EventKind.EV_CERTIFICATE, "no contract certificate pool configured")
        return self.results.Get15118EVCertificate(status="Failed", exi_response="")

    @on("GetCertificateStatus", skip_schema_validation=True)
    async def on_get_certificate_status(self, **_):
        # Policy: no OCSP responder is configured, so the status cannot be obtained.
        await self._event(EventKind.CERTIFICATE_STATUS, "no OCSP responder configured")
        return self.results.GetCertificateStatus(status="Failed")

    @on("NotifyEVChargingNeeds", skip_schema_validation=True)
    async def on_notify_ev_charging_needs(self, **_):
        # Policy until smart charging lands: keep the needs, offer no schedule of our own.
        await self._event(EventKind.EV_CHARGING_NEEDS, self._summary("NotifyEVChargingNeeds"))
        return self.results.NotifyEVChargingNeeds(status="Rejected")

    on_NotifyEvent = _keep("NotifyEvent", EventKind.NOTIFY_EVENT, "NotifyEvent")
    on_NotifyMonitoringReport = _keep(
        "NotifyMonitoringReport", EventKind.MONITORING_REPORT, "NotifyMonitoringReport"
    )
    on_NotifyChargingLimit = _keep(
        "NotifyChargingLimit", EventKind.CHARGING_LIMIT, "NotifyChargingLimit"
    )
    on_ClearedChargingLimit = _keep(
        "ClearedChargingLimit", EventKind.CHARGING_LIMIT_CLEARED, "ClearedChargingLimit"
    )
    on_NotifyEVChargingSchedule = _keep(
        "NotifyEVChargingSchedule",
        EventKind.EV_CHARGING_SCHEDULE,
        "NotifyEVChargingSchedule",
        status="Accepted",
    )
    on_ReportChargingProfiles = _keep(
        "ReportChargingProfiles", EventKind.CHARGING_PROFILES_REPORT, "ReportChargingProfiles"
    )
    on_ReservationStatusUpdate = _keep(
        "ReservationStatusUpdate", EventKind.RESERVATION_STATUS, "ReservationStatusUpdate"
    )
    on_NotifyDisplayMessages = _keep(
        "NotifyDisplayMessages", EventKind.DISPLAY_MESSAGES, "NotifyDisplayMessages"
    )
    on_NotifyCustomerInformation = _keep(
        "NotifyCustomerInformation", EventKind.CUSTOMER_INFORMATION, "NotifyCustomerInformation"
    )
    on_PublishFirmwareStatusNotification = _keep(
        "PublishFirmwareStatusNotification",
        EventKind.PUBLISH_FIRMWARE_STATUS,
        "PublishFirmwareStatusNotification",
    )

    def _summary(self, action: str) -> str:
        """A one-line summary of a notification for lists; the payload is kept whole."""
        payload = self._payload
        for key in ("eventData", "reportData", "messageInfo", "chargingProfile"):
            if isinstance(payload.get(key), list):
                return f"{action}: {len(payload[key])} item(s)"
        if "reservationUpdateStatus" in payload:
            return (
                f"reservation {payload.get('reservationId')}: {payload['reservationUpdateStatus']}"
            )
        if "status" in payload:
            return f"{action}: {payload['status']}"
        return action

    async def _event(self, kind: str, summary: str) -> None:
        await self.db(charger_event_record)(
            charger_id=self.charger_id, kind=kind, summary=summary, payload=self._payload
        )


class CentralSystem201(CentralSystem201Mixin, CentralSystemMixin, ChargePoint201):
    version = "2.0.1"
    known_actions = frozenset(a.value for a in Action201)


class CentralSystem21(CentralSystem201Mixin, CentralSystemMixin, ChargePoint21):
    """OCPP 2.1 chargers speak the 2.0.1 messages above with 2.1's schemas; 2.1's new
    messages (DER control, tariffs, battery swap, ...) are answered NotSupported for now."""

    version = "2.1"
    known_actions = frozenset(a.value for a in Action21)
    results = results21
