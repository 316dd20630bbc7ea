"""OCPP 2.0.1 (and 2.1, which shares these messages): translate, call one service, reply.

Sessions, samples, statuses, tokens and commands land in the same tables as 1.6; what only
2.0.1 has (the device model, ISO 15118 EVs' needs and schedules, the profiles a charger lists)
gets its own. Notifications without state of their own are kept verbatim as charger events.
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

from chargers import costs
from chargers.certificates import plug_and_charge as pnc
from chargers.certificates import v2g
from chargers.commands import asend_command
from chargers.models import Charger, Command, EventKind
from chargers.ocpp import JsonDict, transaction_status
from chargers.ocpp.base import CentralSystem
from chargers.ocpp.frames import parse_timestamp
from chargers.ocpp.profiles import ev_needs, ev_schedule, held_profiles, report_parts
from chargers.ocpp.rpc import Handler, handles
from chargers.ocpp.samples import samples_201
from chargers.ocpp.variables import reported_attributes
from chargers.reservations.services import reservation_ended_by_charger
from chargers.selectors.tokens import TokenInfo, id_token_verdict
from chargers.services.device_model import device_model_store
from chargers.services.reports import (
    connector_status_record,
)
from chargers.services.sessions import (
    TransactionEventAnswer,
    meter_values_record,
    session_event_record,
)
from chargers.smart_charging.models import NeedsAnswer
from chargers.smart_charging.services.ev import ev_needs_record, ev_schedule_record
from chargers.smart_charging.services.reports import profiles_report_record

# Who sent a command the CSMS sends of its own accord after a transaction's end.
TRANSACTION_STATUS_SOURCE = transaction_status.SOURCE
# ... and one it sends again because an EV's schedule went beyond it.
RENEGOTIATION_SOURCE = "renegotiation"
# What the CSMS promised an EV that stated its needs, as 2.0.1 says it.
NEEDS_STATUS: dict[str, str] = {
    NeedsAnswer.SCHEDULE: "Accepted",
    NeedsAnswer.LATER: "Processing",
    NeedsAnswer.NONE: "Rejected",
}

# A contract certificate's verdict (C50-C52) as AuthorizeCertificateStatusEnumType says it.
CERTIFICATE_STATUS = {
    v2g.ContractStatus.ACCEPTED: "Accepted",
    v2g.ContractStatus.SIGNATURE_ERROR: "SignatureError",
    v2g.ContractStatus.EXPIRED: "CertificateExpired",
    v2g.ContractStatus.REVOKED: "CertificateRevoked",
    v2g.ContractStatus.NO_CERTIFICATE: "NoCertificateAvailable",
    v2g.ContractStatus.CHAIN_ERROR: "CertChainError",
    v2g.ContractStatus.CONTRACT_CANCELLED: "ContractCancelled",
}

# Why a station ended a reservation (ReservationUpdateStatusEnumType), in domain words.
RESERVATION_ENDINGS = {"Expired": "expired", "Removed": "removed"}


def charger_by_id(*, charger_id: int) -> Charger:
    return Charger.objects.get(pk=charger_id)


def command_by_id(*, command_id: int) -> Command:
    return Command.objects.select_related("charger").get(pk=command_id)


def id_token_info(token: TokenInfo) -> JsonDict:
    # 2.0.1 distinguishes a token nobody knows (Unknown) from one that is not valid (Invalid).
    info: JsonDict = {"status": "Unknown" if token.token is None else token.status}
    if token.expires_at is not None:
        info["cacheExpiryDateTime"] = token.expires_at.isoformat()
    if token.group_uid:
        info["groupIdToken"] = {"idToken": token.group_uid, "type": "Central"}
    return info


def ocsp_id(data: JsonDict) -> v2g.OcspId:
    """OCSPRequestDataType in domain terms; ValueError for hashes that are not SHA-256 hex."""
    if data["hashAlgorithm"] != "SHA256":
        raise ValueError(f"{data['hashAlgorithm']} hash data: only SHA256 is looked up here")
    return v2g.OcspId.parse(
        issuer_name_hash=data["issuerNameHash"],
        issuer_key_hash=data["issuerKeyHash"],
        serial=data["serialNumber"],
        url=data.get("responderURL", ""),
    )


def status_info(reason: str, code: str = "Failed") -> JsonDict:
    return {"reasonCode": code, "additionalInfo": reason[:512]}


def message_content(text: costs.PriceText) -> JsonDict:
    """A MessageContent for the charger's screen (plain UTF-8, at most 512 characters)."""
    return {"format": "UTF8", "language": text.language, "content": text.text[:512]}


def money(cost: costs.Cost) -> float:
    """A cost as the charger reads it: a JSON number in the currency's minor units. Handed to
    the library as a float, which keeps its digits (a Decimal would leave with one decimal)."""
    return float(cost.amount)


def verdict_and_price(
    *, charger_id: int, id_tag: str, token_type: str
) -> tuple[TokenInfo, costs.PriceText | None]:
    """The token's verdict and, when accepted, the driver's price at this charger (I01): in
    one trip to the database thread, one transaction (a trip each cost a commit)."""
    token = id_token_verdict(id_tag=id_tag, token_type=token_type)
    if token.status != "Accepted":
        return token, None
    return token, costs.price_text(charger_id=charger_id, evse_id=None, token=token.token)


class EventAnswer(NamedTuple):
    recorded: TransactionEventAnswer
    # The driver's price, for a Started whose token was accepted (I02).
    price: costs.PriceText | None
    # The session's total, for an Ended (I03).
    cost: costs.Cost | None


def event_and_display(*, charger_id: int, **report: Any) -> EventAnswer:
    """A TransactionEvent recorded and what its reply shows, in one transaction: the driver's
    price for a Started, the total for an Ended. Updated, the busy one, reads nothing more.
    Each read was a trip and a commit of its own; both only read."""
    recorded = session_event_record(charger_id=charger_id, **report)
    price = cost = None
    token = recorded.token
    if report["event_type"] == "Started" and token is not None and token.status == "Accepted":
        price = costs.price_text(
            charger_id=charger_id, evse_id=report.get("evse_id"), token=token.token
        )
    elif report["event_type"] == "Ended":
        cost = costs.session_cost(session_id=recorded.session.pk)
    return EventAnswer(recorded, price, cost)


def _keep(action: str, kind: str) -> Handler:
    """The handler of a notification that is kept verbatim and acknowledged."""

    @handles(action)
    async def keep(self: CentralSystem, payload: JsonDict) -> JsonDict:
        await self._event(kind, summary(action, payload), payload)
        return {}

    keep.__name__ = keep.__qualname__ = f"keep_{action}"
    return keep


def summary(action: str, payload: JsonDict) -> str:
    """A one-line summary of a notification for lists; the payload is kept whole."""
    for key in ("eventData", "reportData", "messageInfo", "chargingProfile"):
        if isinstance(payload.get(key), list):
            return f"{action}: {len(payload[key])} item(s)"
    if "reservationUpdateStatus" in payload:
        return f"reservation {payload.get('reservationId')}: {payload['reservationUpdateStatus']}"
    if "status" in payload:
        return f"{action}: {payload['status']}"
    return action


class CentralSystem201(CentralSystem):
    version = "2.0.1"

    @handles("BootNotification")
    async def boot_notification(self, payload: JsonDict) -> JsonDict:
        station = payload["chargingStation"]
        modem = station.get("modem") or {}
        reported = {
            "vendor": station.get("vendorName"),
            "model": station.get("model"),
            "serial_number": station.get("serialNumber"),
            "firmware_version": station.get("firmwareVersion"),
            "iccid": modem.get("iccid"),
            "imsi": modem.get("imsi"),
        }
        return await self._boot(reported, reason=payload["reason"])

    @handles("StatusNotification")
    async def status_notification(self, payload: JsonDict) -> JsonDict:
        await self.db(connector_status_record)(
            charger_id=self.charger_id,
            evse_id=payload["evseId"],
            connector_id=payload["connectorId"],
            status=payload["connectorStatus"],
            timestamp=parse_timestamp(payload["timestamp"]),
        )
        return {}

    @handles("Authorize")
    async def authorize(self, payload: JsonDict) -> JsonDict:
        if "certificate" in payload or "iso15118CertificateHashData" in payload:
            return await self._authorize_contract(payload)
        presented = payload["idToken"]
        token, price = await self.db(verdict_and_price)(
            charger_id=self.charger_id, id_tag=presented["idToken"], token_type=presented["type"]
        )
        reply: JsonDict = {"idTokenInfo": id_token_info(token)}
        if price is not None:
            reply["idTokenInfo"]["personalMessage"] = message_content(price)
        return reply

    async def _authorize_contract(self, payload: JsonDict) -> JsonDict:
        """C50-C52: Plug & Charge, the EV's contract certificate (PEM chain) and/or its OCSP
        hash data checked (chain, expiry, revocation) and mapped to the eMAID's token."""
        try:
            hash_data = [ocsp_id(d) for d in payload.get("iso15118CertificateHashData") or []]
        except ValueError as error:
            await self._event(
                EventKind.CERTIFICATE_STATUS, f"contract: bad hash data: {error}", payload
            )
            return {
                "idTokenInfo": {"status": "Invalid"},
                "certificateStatus": "NoCertificateAvailable",
            }
        verdict = await pnc.contract_authorize(
            self.db,
            emaid=payload["idToken"]["idToken"],
            chain_pem=payload.get("certificate"),
            hash_data=hash_data,
        )
        line = f"contract {verdict.emaid or '?'}: {verdict.status}" + (
            f" ({verdict.reason})" if verdict.reason else ""
        )
        await self._event(EventKind.CERTIFICATE_STATUS, line, payload)
        # A valid contract gets its token's verdict (Unknown without one); a refused one is
        # Invalid, or Blocked when the operator blocked its eMAID's token.
        info: JsonDict = {"status": "Invalid"}
        if verdict.status == v2g.ContractStatus.ACCEPTED:
            info = id_token_info(verdict.token)
        elif verdict.status == v2g.ContractStatus.CONTRACT_CANCELLED:
            info = {"status": "Blocked"}
        reply: JsonDict = {
            "idTokenInfo": info,
            "certificateStatus": CERTIFICATE_STATUS[verdict.status],
        }
        if info["status"] == "Accepted":
            await self._personal_message(reply, verdict.token, evse_id=None)
        return reply

    @handles("TransactionEvent")
    async def transaction_event(self, payload: JsonDict) -> JsonDict:
        info = payload["transactionInfo"]
        evse = payload.get("evse") or {}
        answer, price, cost = await self.db(event_and_display)(
            charger_id=self.charger_id,
            transaction_id=info["transactionId"],
            event_type=payload["eventType"],
            seq_no=payload["seqNo"],
            timestamp=parse_timestamp(payload["timestamp"]),
            trigger_reason=payload["triggerReason"],
            offline=payload.get("offline", False),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
            id_tag=(payload.get("idToken") or {}).get("idToken"),
            id_token_type=(payload.get("idToken") or {}).get("type"),
            charging_state=info.get("chargingState"),
            stopped_reason=info.get("stoppedReason"),
            remote_start_id=info.get("remoteStartId"),
            reservation_id=payload.get("reservationId"),
            samples=samples_201(payload.get("meterValue") or []),
        )
        if answer.missing:
            transaction_id = info["transactionId"]
            self.after_answer(lambda: self._ask_transaction_status(transaction_id))
        reply: JsonDict = (
            {} if answer.token is None else {"idTokenInfo": id_token_info(answer.token)}
        )
        if price is not None:
            reply["idTokenInfo"]["personalMessage"] = message_content(price)
        if cost is not None:
            reply["totalCost"] = money(cost)
        return reply

    async def _personal_message(
        self, reply: JsonDict, token: TokenInfo, evse_id: int | None
    ) -> None:
        """I01/I02: the driver's price in the reply that accepts their token, if one applies."""
        text = await self.db(costs.price_text)(
            charger_id=self.charger_id, evse_id=evse_id, token=token.token
        )
        if text is not None:
            reply["idTokenInfo"]["personalMessage"] = message_content(text)

    async def _ask_transaction_status(self, transaction_id: str) -> None:
        """E14: a transaction ended with gaps in its sequence numbers; ask the charger whether
        it still holds messages of it. The command's record keeps the answer (messagesInQueue);
        the queued reports, when they come, still count (`merge_transaction_report`), and
        while it says it holds some, it is asked again (`chargers.ocpp.transaction_status`)."""
        charger = await self.db(charger_by_id)(charger_id=self.charger_id)
        await asend_command(
            charger,
            transaction_status.ACTION,
            transaction_status.question(transaction_id),
            source=TRANSACTION_STATUS_SOURCE,
            wait=False,
        )

    @handles("MeterValues")
    async def meter_values(self, payload: JsonDict) -> JsonDict:
        await self.db(meter_values_record)(
            charger_id=self.charger_id,
            evse_id=payload["evseId"],
            transaction_id=None,
            samples=samples_201(payload["meterValue"]),
            payload=payload,
        )
        return {}

    @handles("NotifyReport")
    async def notify_report(self, payload: JsonDict) -> JsonDict:
        await self.db(device_model_store)(
            charger_id=self.charger_id,
            reports=reported_attributes(payload.get("reportData") or []),
        )
        return {}

    @handles("LogStatusNotification")
    async def log_status_notification(self, payload: JsonDict) -> JsonDict:
        await self._reported_status("diagnostics_status", EventKind.LOG_STATUS, payload)
        return {}

    @handles("DataTransfer")
    async def data_transfer(self, payload: JsonDict) -> JsonDict:
        # No vendor extensions are installed: keep the message and say so.
        await self._event(EventKind.DATA_TRANSFER, payload["vendorId"], payload)
        return {"status": "UnknownVendorId"}

    @handles("Get15118EVCertificate")
    async def get_15118_ev_certificate(self, payload: JsonDict) -> JsonDict:
        """M26/M28: the EV's request goes to the tenant's contract-certificate provider as it
        came (base64 EXI); its answer comes back untouched, or Failed with the reason kept."""
        answer = await pnc.ev_certificate(
            self.db,
            charger_id=self.charger_id,
            action=payload["action"].lower(),
            schema_version=payload["iso15118SchemaVersion"],
            exi_request=payload["exiRequest"],
            payload=payload,
        )
        if answer.accepted:
            return {"status": "Accepted", "exiResponse": answer.exi_response}
        return {"status": "Failed", "exiResponse": "", "statusInfo": status_info(answer.reason)}

    @handles("GetCertificateStatus")
    async def get_certificate_status(self, payload: JsonDict) -> JsonDict:
        """M24: the OCSP response for a certificate of the EV's chain (base64 DER)."""
        try:
            ident = ocsp_id(payload["ocspRequestData"])
        except ValueError as error:
            found = pnc.StatusAnswer(None, str(error))
        else:
            found = await pnc.certificate_status(self.db, ident=ident)
        summary = found.answer.cert_status if found.answer else f"failed: {found.reason}"
        await self._event(EventKind.CERTIFICATE_STATUS, summary, payload)
        if found.answer is None:
            return {"status": "Failed", "statusInfo": status_info(found.reason)}
        return {"status": "Accepted", "ocspResult": base64.b64encode(found.answer.der).decode()}

    @handles("NotifyEVChargingNeeds")
    async def notify_ev_charging_needs(self, payload: JsonDict) -> JsonDict:
        """K15, K17: the EV's needs become its session's; the answer says whether and when a
        schedule (a SetChargingProfile for its transaction) follows."""
        evse_id, needs = ev_needs(payload)
        kind, line = EventKind.EV_CHARGING_NEEDS, summary("NotifyEVChargingNeeds", payload)
        said = await self._event_and(
            kind, line, payload, ev_needs_record, evse_id=evse_id, needs=needs
        )
        return {"status": NEEDS_STATUS[said.answer]}

    @handles("NotifyEVChargingSchedule")
    async def notify_ev_charging_schedule(self, payload: JsonDict) -> JsonDict:
        """K15 to K17: the schedule the EV chose, held against the limit sent; beyond it, the
        answer is Rejected and the limit goes out again (a renegotiation, K16)."""
        evse_id, schedule, time_base = ev_schedule(payload)
        kind, line = EventKind.EV_CHARGING_SCHEDULE, summary("NotifyEVChargingSchedule", payload)
        verdict = await self._event_and(
            kind,
            line,
            payload,
            ev_schedule_record,
            evse_id=evse_id,
            schedule=schedule,
            time_base=time_base,
        )
        if verdict.record.within_limits:
            return {"status": "Accepted"}
        command_id = verdict.resend_command_id
        if command_id is not None:
            self.after_answer(lambda: self._send_again(command_id))
        return {
            "status": "Rejected",
            "statusInfo": {"reasonCode": "OverLimit", "additionalInfo": verdict.record.verdict},
        }

    async def _send_again(self, command_id: int) -> None:
        """Send a command's request once more, as a command of its own."""
        command = await self.db(command_by_id)(command_id=command_id)
        charger, action, payload = command.charger, command.action, command.payload
        await asend_command(charger, action, payload, source=RENEGOTIATION_SOURCE, wait=False)

    @handles("ReportChargingProfiles")
    async def report_charging_profiles(self, payload: JsonDict) -> JsonDict:
        """K09: one part of the profiles the charger listed for a GetChargingProfiles."""
        request_id, more = report_parts(payload)
        kind, line = EventKind.CHARGING_PROFILES_REPORT, summary("ReportChargingProfiles", payload)
        profiles = held_profiles(payload)
        await self._event_and(
            kind,
            line,
            payload,
            profiles_report_record,
            request_id=request_id,
            profiles=profiles,
            more=more,
        )
        return {}

    @handles("ReservationStatusUpdate")
    async def reservation_status_update(self, payload: JsonDict) -> JsonDict:
        """H04: the station ended a reservation itself (it expired, or it was removed because
        its EVSE can no longer be used); the notification is kept and the record closed."""
        kind, line = EventKind.RESERVATION_STATUS, summary("ReservationStatusUpdate", payload)
        await self._event_and(
            kind,
            line,
            payload,
            reservation_ended_by_charger,
            reservation_id=payload["reservationId"],
            ended=RESERVATION_ENDINGS[payload["reservationUpdateStatus"]],
        )
        return {}

    notify_event = _keep("NotifyEvent", EventKind.NOTIFY_EVENT)
    notify_monitoring_report = _keep("NotifyMonitoringReport", EventKind.MONITORING_REPORT)
    notify_charging_limit = _keep("NotifyChargingLimit", EventKind.CHARGING_LIMIT)
    cleared_charging_limit = _keep("ClearedChargingLimit", EventKind.CHARGING_LIMIT_CLEARED)
    notify_display_messages = _keep("NotifyDisplayMessages", EventKind.DISPLAY_MESSAGES)
    notify_customer_information = _keep("NotifyCustomerInformation", EventKind.CUSTOMER_INFORMATION)
    publish_firmware_status_notification = _keep(
        "PublishFirmwareStatusNotification", EventKind.PUBLISH_FIRMWARE_STATUS
    )


class CentralSystem21(CentralSystem201):
    """OCPP 2.1 chargers speak the 2.0.1 messages above with 2.1's schemas; 2.1's new
    messages (DER control, tariffs, battery swap, ...) are answered NotSupported for now."""

    version = "2.1"
