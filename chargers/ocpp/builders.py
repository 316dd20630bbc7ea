"""Operator actions, version-neutral: what an operator means, said in each charger's OCPP.

Dashboards, the API and tasks call these; each builds the payload for the charger's version
and sends it through `chargers.commands`, so every action is recorded the same way. Anything
without a version-neutral meaning is sent with `commands.send_command` and a raw payload.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Required, TypedDict, Unpack

from chargers import credentials
from chargers.commands import SendOptions, send_command
from chargers.models import Charger, Command, CommandStatus, OcppVersion
from chargers.ocpp import JsonDict
from chargers.ocpp.readers import READ_KEYS, configuration_keys
from chargers.ocpp.variables import ATTRIBUTE_TYPES, attribute_to_wire
from chargers.services.device_model import AttributeId

# TriggerMessage: what 1.6 calls a message, and its 2.0.1 name where it differs.
TRIGGERABLE = {
    "BootNotification": "BootNotification",
    "Heartbeat": "Heartbeat",
    "StatusNotification": "StatusNotification",
    "MeterValues": "MeterValues",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "DiagnosticsStatusNotification": "LogStatusNotification",
}


def is_v2(charger: Charger) -> bool:
    return charger.ocpp_version in (OcppVersion.V201, OcppVersion.V21)


@dataclass(frozen=True)
class Request:
    action: str
    payload: JsonDict


class ActionError(ValueError):
    """The action cannot be expressed for this charger (bad arguments, wrong version)."""


def remote_start(charger: Charger, *, id_tag: str, evse_id: int | None = None) -> Request:
    if not id_tag:
        raise ActionError("An id token is required to start a session.")
    if is_v2(charger):
        payload: JsonDict = {
            "idToken": {"idToken": id_tag, "type": "Central"},
            "remoteStartId": secrets.randbelow(2**31 - 1) + 1,
        }
        if evse_id:
            payload["evseId"] = evse_id
        return Request("RequestStartTransaction", payload)
    payload = {"idTag": id_tag[:20]}
    if evse_id:
        payload["connectorId"] = evse_id
    return Request("RemoteStartTransaction", payload)


def remote_stop(charger: Charger, *, transaction_id: str) -> Request:
    if is_v2(charger):
        return Request("RequestStopTransaction", {"transactionId": transaction_id})
    try:
        return Request("RemoteStopTransaction", {"transactionId": int(transaction_id)})
    except ValueError:
        raise ActionError(f"{transaction_id!r} is not a 1.6 transaction id.") from None


def reset(charger: Charger, *, hard: bool = False) -> Request:
    if is_v2(charger):
        return Request("Reset", {"type": "Immediate" if hard else "OnIdle"})
    return Request("Reset", {"type": "Hard" if hard else "Soft"})


def unlock(charger: Charger, *, evse_id: int, connector_id: int = 1) -> Request:
    if evse_id < 1:
        raise ActionError("Unlock needs a connector numbered from 1.")
    if is_v2(charger):
        return Request("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})
    return Request("UnlockConnector", {"connectorId": evse_id})


def set_availability(charger: Charger, *, operative: bool, evse_id: int = 0) -> Request:
    """evse_id 0 means the whole charger."""
    if is_v2(charger):
        payload: JsonDict = {"operationalStatus": "Operative" if operative else "Inoperative"}
        if evse_id:
            payload["evse"] = {"id": evse_id}
        return Request("ChangeAvailability", payload)
    return Request(
        "ChangeAvailability",
        {"connectorId": evse_id, "type": "Operative" if operative else "Inoperative"},
    )


def trigger(charger: Charger, *, message: str, evse_id: int | None = None) -> Request:
    if message not in TRIGGERABLE:
        raise ActionError(f"Choose one of: {', '.join(TRIGGERABLE)}.")
    if is_v2(charger):
        payload: JsonDict = {"requestedMessage": TRIGGERABLE[message]}
        if evse_id:
            payload["evse"] = {"id": evse_id}
        return Request("TriggerMessage", payload)
    payload = {"requestedMessage": message}
    if evse_id:
        payload["connectorId"] = evse_id
    return Request("TriggerMessage", payload)


def clear_cache(charger: Charger) -> Request:
    return Request("ClearCache", {})


def get_diagnostics(
    charger: Charger,
    *,
    location: str,
    request_id: int | None = None,
    security_extension: bool = False,
) -> Request:
    """2.0.1 GetLog; on 1.6, GetLog of the security extension when the charger speaks it
    (`security_extension`), else GetDiagnostics."""
    if not location.startswith(("http://", "https://", "ftp://", "ftps://")):
        raise ActionError("The upload location must be an http(s) or ftp(s) URL.")
    if is_v2(charger) or security_extension:
        return Request(
            "GetLog",
            {
                "logType": "DiagnosticsLog",
                "requestId": request_id or secrets.randbelow(2**31 - 1) + 1,
                "log": {"remoteLocation": location},
            },
        )
    return Request("GetDiagnostics", {"location": location})


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def update_firmware(
    charger: Charger,
    *,
    location: str,
    retrieve_at: datetime,
    request_id: int,
    signature: str = "",
    signing_certificate: str = "",
    signed_16: bool = False,
    retries: int | None = None,
    retry_interval: int | None = None,
) -> Request:
    """Install the firmware at `location`: 2.0.1 UpdateFirmware with its requestId (and the
    signature where the image has one); 1.6 SignedUpdateFirmware of the security extension
    when `signed_16` (the charger speaks it and the image is signed), else 1.6 UpdateFirmware."""
    if len(location) > 512:
        raise ActionError("A firmware location is at most 512 characters.")
    retry: JsonDict = {}
    if retries is not None:
        retry["retries"] = retries
    if retry_interval is not None:
        retry["retryInterval"] = retry_interval
    if is_v2(charger) or signed_16:
        firmware: JsonDict = {"location": location, "retrieveDateTime": _iso(retrieve_at)}
        if signature and signing_certificate:
            firmware["signingCertificate"] = signing_certificate[:5500]
            firmware["signature"] = signature[:800]
        elif signed_16:
            raise ActionError("A signed update needs the image's signature and certificate.")
        action = "UpdateFirmware" if is_v2(charger) else "SignedUpdateFirmware"
        return Request(action, {"requestId": request_id, "firmware": firmware, **retry})
    return Request(
        "UpdateFirmware", {"location": location, "retrieveDate": _iso(retrieve_at)} | retry
    )


def _variable(name: str) -> JsonDict:
    component, _, variable = name.rpartition(".")
    if not component or not variable:
        raise ActionError(f"{name!r}: name 2.0.1 variables as Component.Variable.")
    return attribute_to_wire(AttributeId(component=component, variable=variable))


def get_configuration(charger: Charger, *, keys: list[str] | None = None) -> Request:
    """1.6 configuration keys, or 2.0.1 variables named Component.Variable."""
    if is_v2(charger):
        if not keys:
            return Request(
                "GetBaseReport",
                {"requestId": secrets.randbelow(2**31 - 1) + 1, "reportBase": "FullInventory"},
            )
        return Request("GetVariables", {"getVariableData": [_variable(k) for k in keys]})
    return Request("GetConfiguration", {"key": keys} if keys else {})


def change_configuration(charger: Charger, *, key: str, value: str) -> Request:
    if is_v2(charger):
        return Request(
            "SetVariables", {"setVariableData": [{**_variable(key), "attributeValue": value}]}
        )
    return Request("ChangeConfiguration", {"key": key, "value": value})


class AttributeName(TypedDict, total=False):
    """A device-model attribute as the charger reported it; the rest default to none."""

    component: Required[str]
    variable: Required[str]
    attribute_type: str
    evse_id: int
    connector_id: int
    component_instance: str
    variable_instance: str


def _attribute(
    charger: Charger,
    *,
    instead: str,
    component: str,
    variable: str,
    attribute_type: str = "Actual",
    evse_id: int = 0,
    connector_id: int = 0,
    component_instance: str = "",
    variable_instance: str = "",
) -> JsonDict:
    """One device-model attribute as 2.0.1 names it in Get/SetVariables; a 1.6 charger has
    none, and the error says what to do `instead`."""
    if not is_v2(charger):
        raise ActionError(f"Device-model variables are OCPP 2.0.1; {instead}")
    if attribute_type not in ATTRIBUTE_TYPES:
        raise ActionError(f"attribute type: choose one of {', '.join(ATTRIBUTE_TYPES)}.")
    if connector_id and not evse_id:
        raise ActionError("connector: a connector is numbered within an EVSE; give the EVSE.")
    return attribute_to_wire(
        AttributeId(
            component=component,
            variable=variable,
            component_instance=component_instance,
            variable_instance=variable_instance,
            evse_id=evse_id,
            connector_id=connector_id,
            attribute_type=attribute_type,
        )
    )


def set_variable(charger: Charger, *, value: str, **attribute: Unpack[AttributeName]) -> Request:
    """One 2.0.1 device-model attribute, named as the charger reported it (SetVariables)."""
    data = _attribute(charger, instead="change a 1.6 key instead.", **attribute)
    return Request("SetVariables", {"setVariableData": [{**data, "attributeValue": value}]})


def get_variable(charger: Charger, **attribute: Unpack[AttributeName]) -> Request:
    """Read one 2.0.1 attribute now (GetVariables); the reply refreshes the stored value."""
    data = _attribute(charger, instead="read 1.6 keys instead.", **attribute)
    return Request("GetVariables", {"getVariableData": [data]})


def set_variables(charger: Charger, *, values: list[tuple[AttributeId, str]]) -> Request:
    """Several 2.0.1 attributes at once (SetVariables); the consumer sends it in as many
    messages as the charger's ItemsPerMessage and BytesPerMessage ask."""
    if not is_v2(charger):
        raise ActionError("Device-model variables are OCPP 2.0.1; change 1.6 keys instead.")
    data = [
        {**attribute_to_wire(attribute), "attributeValue": value} for attribute, value in values
    ]
    return Request("SetVariables", {"setVariableData": data})


def get_variables(charger: Charger, *, attributes: list[AttributeId]) -> Request:
    """Read several 2.0.1 attributes now (GetVariables, in parts as for `set_variables`)."""
    if not is_v2(charger):
        raise ActionError("Device-model variables are OCPP 2.0.1; read 1.6 keys instead.")
    return Request("GetVariables", {"getVariableData": [attribute_to_wire(a) for a in attributes]})


def perform(charger: Charger, request: Request, **options: Unpack[SendOptions]) -> Command:
    """Send a built request; options as for `send_command` (requested_by, source, ...)."""
    return send_command(charger, request.action, request.payload, **options)


def change_password(charger: Charger, *, password: str) -> Request:
    """Give a connected charger a new basic-auth password (security profiles 1 and 2).

    When the charger accepts, the stored hash follows (the consumer applies what
    `readers.reply_facts` reads from the reply); an offline charger gets its password set
    with `services.charger_set_password` instead.
    """
    if is_v2(charger):
        return Request(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attributeValue": password,
                    }
                ]
            },
        )
    # The 1.6 security whitepaper's form: the hexadecimal representation of the password.
    return Request(
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": credentials.hex_key(password)}
    )


# The action that carries charging limits, for those who watch its outcomes.
CHARGING_LIMIT_ACTION = "SetChargingProfile"
# What smart charging sends, over and over: a charger's command log can hide them.
CHARGING_PROFILE_ACTIONS = (CHARGING_LIMIT_ACTION, "ClearChargingProfile")

# Charging limits, as the smart-charging loop means them: amperes per phase for an EVSE (or,
# with evse_id 0, every EVSE of the charger), from `starts` on, period by period.
LIMIT_PURPOSES = {
    # kind: (1.6 purpose, 2.0.1 purpose)
    "session": ("TxProfile", "TxProfile"),
    "fallback": ("TxDefaultProfile", "TxDefaultProfile"),
    "charger_max": ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
}


def charging_limit(
    charger: Charger,
    *,
    kind: str,
    evse_id: int,
    profile_id: int,
    starts: datetime,
    periods: Sequence[tuple[int, float]],
    phases: int = 3,
    stack_level: int = 0,
    transaction_id: str = "",
) -> Request:
    """SetChargingProfile with an absolute schedule in A: `periods` are (seconds after
    `starts`, limit A), the first at 0. A session's limit (TxProfile) names its transaction."""
    if kind not in LIMIT_PURPOSES:
        raise ActionError(f"kind: one of {', '.join(LIMIT_PURPOSES)}.")
    if not periods or periods[0][0] != 0:
        raise ActionError("periods: the first period starts at 0.")
    if kind == "session" and (not evse_id or not transaction_id):
        raise ActionError("A session's limit needs its EVSE and its transaction.")
    if kind == "charger_max" and evse_id:
        raise ActionError("The charger's maximum is set on EVSE 0.")
    schedule_periods: list[JsonDict] = []
    for start, limit in periods:
        period: JsonDict = {"startPeriod": int(start), "limit": round(float(limit), 1)}
        if phases != 3:
            period["numberPhases"] = phases
        schedule_periods.append(period)
    schedule: JsonDict = {
        "chargingRateUnit": "A",
        "startSchedule": starts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "chargingSchedulePeriod": schedule_periods,
    }
    purpose_16, purpose_201 = LIMIT_PURPOSES[kind]
    if is_v2(charger):
        profile: JsonDict = {
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": purpose_201,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": profile_id, **schedule}],
        }
        if kind == "session":
            profile["transactionId"] = transaction_id
        return Request(CHARGING_LIMIT_ACTION, {"evseId": evse_id, "chargingProfile": profile})
    profile = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose_16,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": schedule,
    }
    if kind == "session":
        try:
            profile["transactionId"] = int(transaction_id)
        except ValueError:
            raise ActionError(f"{transaction_id!r} is not a 1.6 transaction id.") from None
    return Request(CHARGING_LIMIT_ACTION, {"connectorId": evse_id, "csChargingProfiles": profile})


RATE_UNITS = ("A", "W")


def composite_schedule(
    charger: Charger, *, evse_id: int = 0, duration_s: int = 3600, unit: str = ""
) -> Request:
    """Ask what the charger will draw on an EVSE (0: the whole charger) for the next
    `duration_s` seconds, all its profiles and limits combined, in `unit` (A or W; empty:
    the charger's choice)."""
    if evse_id < 0:
        raise ActionError("Connector: 0 for the whole charger, or its number.")
    if not 1 <= duration_s <= 7 * 24 * 3600:
        raise ActionError("Duration: from 1 second to a week.")
    if unit and unit not in RATE_UNITS:
        raise ActionError(f"Unit: one of {', '.join(RATE_UNITS)}.")
    payload: JsonDict = {"duration": duration_s}
    if unit:
        payload["chargingRateUnit"] = unit
    payload["evseId" if is_v2(charger) else "connectorId"] = evse_id
    return Request("GetCompositeSchedule", payload)


# Every source of a limit 2.0.1 knows: asking for all of them lists every profile held.
LIMIT_SOURCES = ["CSO", "EMS", "SO", "Other"]


def charging_profiles(charger: Charger, *, evse_id: int | None = None) -> Request:
    """Ask a 2.0.1 charger to list the charging profiles it holds (on one EVSE, 0 for the
    charger's own, or everywhere): it answers with ReportChargingProfiles messages."""
    if not is_v2(charger):
        raise ActionError(
            "A 1.6 charger cannot list its profiles; ask for its composite schedule instead."
        )
    payload: JsonDict = {
        "requestId": secrets.randbelow(2**31 - 1) + 1,
        "chargingProfile": {"chargingLimitSource": LIMIT_SOURCES},
    }
    if evse_id is not None:
        payload["evseId"] = evse_id
    return Request("GetChargingProfiles", payload)


# --- Costs on the charger's screen ---------------------------------------------------------

# The OCA's California Pricing whitepaper: 1.6 chargers take costs as DataTransfer messages of
# this vendor, and say they do with this read-only configuration key set to true.
COST_VENDOR = "org.openchargealliance.costmsg"
COST_DISPLAY_KEY = "CustomDisplayCostAndPrice"
# How many of a charger's latest configuration reads are looked through for the key.
_READS_LOOKED_AT = 20


def shows_costs(charger: Charger) -> bool:
    """Whether running and final costs are sent to `charger`: every 2.0.1 station (CostUpdated
    is the standard's own message), and a 1.6 charger whose latest configuration read that
    lists `CustomDisplayCostAndPrice` says true (unread, a 1.6 charger gets nothing)."""
    if is_v2(charger):
        return True
    replies = Command.objects.filter(
        charger=charger, action=READ_KEYS, status=CommandStatus.ANSWERED
    ).order_by("-completed_at", "-pk")[:_READS_LOOKED_AT]
    for reply in replies.values_list("response", flat=True):
        for key in configuration_keys(reply):
            if key.key == COST_DISPLAY_KEY:
                return (key.value or "").strip().lower() == "true"
    return False


def user_price(charger: Charger, *, id_tag: str, price_text: str) -> Request:
    """The driver's price before charging, once their token is accepted (California Pricing
    SetUserPrice, 1.6); a 2.0.1 station has it in the reply that accepts the token instead."""
    if is_v2(charger):
        raise ActionError("A 2.0.1 station gets the driver's price in the reply to Authorize.")
    return _cost_message("SetUserPrice", {"idToken": id_tag, "priceText": price_text})


def _cost_message(message_id: str, data: JsonDict) -> Request:
    return Request(
        "DataTransfer",
        {"vendorId": COST_VENDOR, "messageId": message_id, "data": json.dumps(data)},
    )


def running_cost(
    charger: Charger,
    *,
    transaction_id: str,
    cost: Decimal,
    meter_wh: int,
    charging: bool,
    at: datetime,
) -> Request:
    """The session's cost so far (VAT included, in the currency's minor unit): 2.0.1
    CostUpdated, 1.6 California Pricing RunningCost. The cost leaves as a float, whose JSON
    keeps its digits (the library would send a Decimal with one)."""
    if is_v2(charger):
        return Request("CostUpdated", {"totalCost": float(cost), "transactionId": transaction_id})
    return _cost_message(
        "RunningCost",
        {
            "transactionId": int(transaction_id),
            "timestamp": _iso(at),
            "meterValue": meter_wh,
            "cost": float(cost),
            "state": "Charging" if charging else "Idle",
        },
    )


def final_cost(charger: Charger, *, transaction_id: str, cost: Decimal, price_text: str) -> Request:
    """A 1.6 session's total (California Pricing FinalCost); 2.0.1 has it in the reply to the
    Ended event instead."""
    if is_v2(charger):
        raise ActionError("A 2.0.1 station gets its total in the reply to the Ended event.")
    return _cost_message(
        "FinalCost",
        {"transactionId": int(transaction_id), "cost": float(cost), "priceText": price_text},
    )


# --- Reservations ---------------------------------------------------------------------------


def reserve(
    charger: Charger,
    *,
    reservation_id: int,
    evse_id: int | None,
    id_tag: str,
    expires_at: datetime,
    group_id_tag: str = "",
) -> Request:
    """Reserve a connector (1.6) or EVSE (2.0.1) of the charger, or any of them (`evse_id`
    None: 1.6 connector 0, 2.0.1 without an EVSE), for `id_tag` until `expires_at`. A
    `group_id_tag` lets any token of that group use it (parentIdTag, groupIdToken)."""
    if evse_id is not None and evse_id < 1:
        raise ActionError("A reserved connector is numbered from 1; none means any connector.")
    if is_v2(charger):
        payload: JsonDict = {
            "id": reservation_id,
            "expiryDateTime": _iso(expires_at),
            "idToken": {"idToken": id_tag, "type": "Central"},
        }
        if evse_id is not None:
            payload["evseId"] = evse_id
        if group_id_tag:
            payload["groupIdToken"] = {"idToken": group_id_tag, "type": "Central"}
        return Request("ReserveNow", payload)
    payload = {
        "connectorId": evse_id or 0,
        "expiryDate": _iso(expires_at),
        "idTag": id_tag[:20],
        "reservationId": reservation_id,
    }
    if group_id_tag:
        payload["parentIdTag"] = group_id_tag[:20]
    return Request("ReserveNow", payload)


def cancel_reservation(charger: Charger, *, reservation_id: int) -> Request:
    return Request("CancelReservation", {"reservationId": reservation_id})


# --- The local authorization list ----------------------------------------------------------

# 1.6 keys and 2.0.1 LocalAuthListCtrlr variables that say whether a charger keeps a local list
# and how big a list and an update may be.
LOCAL_LIST_KEYS = [
    "SupportedFeatureProfiles",
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
]
LOCAL_LIST_CONTROLLER = "LocalAuthListCtrlr"
LOCAL_LIST_VARIABLES = ["Available", "Enabled", "ItemsPerMessage", "BytesPerMessage"]
# 1.6 IdToken (CiString20Type): a longer token cannot be on a 1.6 charger's list.
V16_ID_TAG_LENGTH = 20


@dataclass(frozen=True)
class ListEntry:
    """One id token on a charger's local list, as the domain knows it: its uid and type, the
    status the charger should apply offline, when it expires and its group, if any."""

    uid: str
    type: str
    status: str
    expires_at: str = ""  # ISO 8601 in UTC, or empty
    group_uid: str = ""
    group_type: str = ""


def local_list_capabilities(charger: Charger) -> Request:
    """Ask whether the charger keeps a local list and its limits."""
    if is_v2(charger):
        return Request(
            "GetVariables",
            {
                "getVariableData": [
                    {"component": {"name": LOCAL_LIST_CONTROLLER}, "variable": {"name": name}}
                    for name in LOCAL_LIST_VARIABLES
                ]
            },
        )
    return Request("GetConfiguration", {"key": LOCAL_LIST_KEYS})


def local_list_version(charger: Charger) -> Request:
    return Request("GetLocalListVersion", {})


def _list_entry(charger: Charger, uid: str, entry: ListEntry | None) -> JsonDict:
    """An entry of SendLocalList; None removes the token (sent without its info)."""
    if is_v2(charger):
        token_type = entry.type if entry is not None else "ISO14443"
        item: JsonDict = {"idToken": {"idToken": uid, "type": token_type}}
        if entry is not None:
            info: JsonDict = {"status": entry.status}
            if entry.expires_at:
                info["cacheExpiryDateTime"] = entry.expires_at
            if entry.group_uid:
                info["groupIdToken"] = {
                    "idToken": entry.group_uid,
                    "type": entry.group_type or "Central",
                }
            item["idTokenInfo"] = info
        return item
    item = {"idTag": uid}
    if entry is not None:
        tag_info: JsonDict = {"status": entry.status}
        if entry.expires_at:
            tag_info["expiryDate"] = entry.expires_at
        if entry.group_uid and len(entry.group_uid) <= V16_ID_TAG_LENGTH:
            tag_info["parentIdTag"] = entry.group_uid
        item["idTagInfo"] = tag_info
    return item


def send_local_list(
    charger: Charger,
    *,
    version: int,
    full: bool,
    entries: Sequence[tuple[str, ListEntry | None]],
    removed_types: dict[str, str] | None = None,
) -> Request:
    """A SendLocalList of `entries` (uid, entry; None removes the uid) as list `version`, a
    Full update or a Differential one. 2.0.1 names a removed token with its type:
    `removed_types` gives the type the charger was sent (ISO14443 when unknown)."""
    if version < 1:
        raise ActionError("A local list's version starts at 1.")
    types = removed_types or {}
    items = []
    for uid, entry in entries:
        item = _list_entry(charger, uid, entry)
        if entry is None and is_v2(charger) and uid in types:
            item["idToken"]["type"] = types[uid]
        items.append(item)
    update_type = "Full" if full else "Differential"
    if is_v2(charger):
        payload: JsonDict = {"versionNumber": version, "updateType": update_type}
        if items:
            payload["localAuthorizationList"] = items
        return Request("SendLocalList", payload)
    payload = {"listVersion": version, "updateType": update_type}
    if items:
        payload["localAuthorizationList"] = items
    return Request("SendLocalList", payload)


def request_bytes(request: Request) -> int:
    """The size of the request's payload as sent (compact JSON), for a charger's byte limit."""
    return len(json.dumps(request.payload, separators=(",", ":")).encode())


# --- Certificates ----------------------------------------------------------------------------

# A charger's own certificate, by use (the domain's names), as 2.0.1 names its type; 1.6's
# security extension has charge point certificates only and names no type.
CERTIFICATE_TYPES = {"charging_station": "ChargingStationCertificate", "v2g": "V2GCertificate"}
# Root certificates, by kind: (1.6 name, 2.0.1 name); None where 1.6 has none.
ROOT_TYPES: dict[str, tuple[str | None, str]] = {
    "csms_root": ("CentralSystemRootCertificate", "CSMSRootCertificate"),
    "manufacturer_root": ("ManufacturerRootCertificate", "ManufacturerRootCertificate"),
    "v2g_root": (None, "V2GRootCertificate"),
    "mo_root": (None, "MORootCertificate"),
}
# Both versions cap a certificate or chain at this many characters.
MAX_CHAIN = 10000
MAX_CERTIFICATE = 5500


def root_type(charger: Charger, kind: str) -> str:
    """The charger's version's name of a root certificate kind."""
    if kind not in ROOT_TYPES:
        raise ActionError(f"Certificate kind: one of {', '.join(ROOT_TYPES)}.")
    name_16, name_201 = ROOT_TYPES[kind]
    if is_v2(charger):
        return name_201
    if name_16 is None:
        raise ActionError(f"An OCPP 1.6 charger holds no {kind.replace('_', ' ')} certificate.")
    return name_16


def certificate_signed(charger: Charger, *, chain: str, use: str = "charging_station") -> Request:
    """Hand a charger the certificate chain (leaf first) signed for its CSR."""
    if len(chain) > MAX_CHAIN:
        raise ActionError(f"The chain is {len(chain)} characters; at most {MAX_CHAIN}.")
    payload: JsonDict = {"certificateChain": chain}
    if is_v2(charger):
        payload["certificateType"] = CERTIFICATE_TYPES[use]
    return Request("CertificateSigned", payload)


RENEWAL_TRIGGERS = {
    "charging_station": "SignChargingStationCertificate",
    "v2g": "SignV2GCertificate",
}


def renew_certificate(charger: Charger, *, use: str = "charging_station") -> Request:
    """Ask the charger to make a new key and CSR now: 2.0.1 TriggerMessage (for its charging
    station or its V2G certificate), 1.6 the security extension's ExtendedTriggerMessage."""
    if is_v2(charger):
        return Request("TriggerMessage", {"requestedMessage": RENEWAL_TRIGGERS[use]})
    if use != "charging_station":
        raise ActionError("A 1.6 charger has no V2G certificate to renew.")
    return Request("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})


def install_certificate(charger: Charger, *, kind: str, pem: str) -> Request:
    if len(pem) > MAX_CERTIFICATE:
        raise ActionError(f"The certificate is {len(pem)} characters; at most {MAX_CERTIFICATE}.")
    return Request(
        "InstallCertificate", {"certificateType": root_type(charger, kind), "certificate": pem}
    )


def installed_certificates(charger: Charger, *, kind: str = "") -> Request:
    """List the root certificates the charger holds (of one kind; 2.0.1 also of every kind,
    while 1.6 asks one kind at a time)."""
    if not kind:
        if not is_v2(charger):
            raise ActionError("A 1.6 charger lists one kind of certificate at a time.")
        return Request("GetInstalledCertificateIds", {})
    name = root_type(charger, kind)
    if is_v2(charger):
        return Request("GetInstalledCertificateIds", {"certificateType": [name]})
    return Request("GetInstalledCertificateIds", {"certificateType": name})


def delete_certificate(charger: Charger, *, hash_data: dict[str, str]) -> Request:
    """Delete the certificate these hash data name (`hash_algorithm`, `issuer_name_hash`,
    `issuer_key_hash`, `serial_number`)."""
    try:
        wire = {
            "hashAlgorithm": hash_data.get("hash_algorithm") or "SHA256",
            "issuerNameHash": hash_data["issuer_name_hash"],
            "issuerKeyHash": hash_data["issuer_key_hash"],
            "serialNumber": hash_data["serial_number"],
        }
    except KeyError as missing:
        raise ActionError(f"Certificate hash data lack {missing}.") from None
    return Request("DeleteCertificate", {"certificateHashData": wire})
