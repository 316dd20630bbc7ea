"""Replies to our commands, read into what they establish in domain terms.

`reply_facts` is what the consumer learns from every answered command (a password the charger
now uses, device-model values it now holds) and hands to the services. The other readers are
for pages that show past commands and their replies (the fleet's configuration page).
"""

from __future__ import annotations

from dataclasses import dataclass

from chargers import credentials
from chargers.ocpp import JsonDict
from chargers.ocpp.variables import attribute_from_wire, value_read
from chargers.services.device_model import AttributeId, AttributeValue

# The commands whose payloads and replies these readers understand, by what they do.
READ_KEYS = "GetConfiguration"  # 1.6 configuration keys
CHANGE_KEY = "ChangeConfiguration"
READ_VARIABLES = "GetVariables"  # 2.0.1 device-model attributes
CHANGE_VARIABLES = "SetVariables"
READ_REPORT = "GetBaseReport"  # the whole 2.0.1 device model, sent back as NotifyReports
# The commands that read or change a charger's configuration, whatever its version.
CONFIGURATION_ACTIONS = (READ_KEYS, CHANGE_KEY, READ_REPORT, READ_VARIABLES, CHANGE_VARIABLES)

# A charger's basic-auth password: the 1.6 key and the 2.0.1 variable that hold it.
AUTHORIZATION_KEY = "AuthorizationKey"
BASIC_AUTH_VARIABLE = "BasicAuthPassword"


@dataclass(frozen=True)
class ReplyFacts:
    """What an answered command establishes about its charger."""

    # The new basic-auth password the charger accepted: it uses it from its next connection.
    password: str | None = None
    # Device-model values the charger now holds (read, or changed and accepted).
    values: tuple[AttributeValue, ...] = ()


def reply_facts(action: str, payload: JsonDict, reply: JsonDict) -> ReplyFacts:
    """The facts a command (`action`, the `payload` sent) and its `reply` establish."""
    if action == CHANGE_KEY:
        if payload.get("key") == AUTHORIZATION_KEY and reply.get("status") == "Accepted":
            # Sent hex-encoded (the whitepaper's form), the charger uses the decoded bytes; a
            # raw command's plain value, taken as it is.
            value = payload["value"]
            return ReplyFacts(password=credentials.password_of_hex_key(value) or value)
        return ReplyFacts()
    if action == CHANGE_VARIABLES:
        password, values = None, []
        results = reply.get("setVariableResult") or []
        for data, result in zip(payload.get("setVariableData") or [], results, strict=False):
            if result.get("attributeStatus") != "Accepted":
                continue
            if data.get("variable", {}).get("name") == BASIC_AUTH_VARIABLE:
                password = data["attributeValue"]
            else:
                # The device model shows what the charger now holds, as a GetVariables would.
                attribute = attribute_from_wire(
                    data["component"], data["variable"], data.get("attributeType")
                )
                value = str(data["attributeValue"])
                values.append(AttributeValue(attribute=attribute, value=value))
        return ReplyFacts(password=password, values=tuple(values))
    if action == READ_VARIABLES:
        read = (value_read(result) for result in reply.get("getVariableResult") or [])
        return ReplyFacts(values=tuple(value for value in read if value is not None))
    return ReplyFacts()


@dataclass(frozen=True)
class ConfigurationKey:
    """One 1.6 configuration key as a GetConfiguration reply lists it."""

    key: str
    value: str | None
    readonly: bool


def configuration_keys(reply: object) -> list[ConfigurationKey]:
    """The keys of a GetConfiguration reply, sorted by name; none when it is not one."""
    if not isinstance(reply, dict):
        return []
    keys = [
        ConfigurationKey(
            key=str(entry.get("key", "")),
            value=entry.get("value"),
            readonly=bool(entry.get("readonly")),
        )
        for entry in reply.get("configurationKey") or []
        if isinstance(entry, dict)
    ]
    return sorted(keys, key=lambda entry: entry.key)


def unknown_keys(reply: object) -> list[str]:
    """The keys a GetConfiguration reply says the charger does not know."""
    if not isinstance(reply, dict):
        return []
    return [str(key) for key in reply.get("unknownKey") or []]


def changed_key(action: str, payload: object) -> str | None:
    """The 1.6 key a ChangeConfiguration command sets."""
    if action != CHANGE_KEY or not isinstance(payload, dict):
        return None
    return payload.get("key") or None


@dataclass(frozen=True)
class VariableResult:
    """What a charger said of one attribute of a Get/SetVariables command."""

    attribute: AttributeId
    status: str  # Accepted, Rejected, RebootRequired, UnknownVariable, ...
    reason: str | None = None  # the charger's reasonCode, if it gave one
    value: str | None = None  # the value read, for an accepted GetVariables


def variables_asked(action: str, payload: object) -> list[AttributeId]:
    """The attributes a Get/SetVariables command names, in the order it names them."""
    if action not in (READ_VARIABLES, CHANGE_VARIABLES) or not isinstance(payload, dict):
        return []
    data = payload.get("getVariableData" if action == READ_VARIABLES else "setVariableData")
    return [
        attribute_from_wire(item["component"], item["variable"], item.get("attributeType"))
        for item in data or []
    ]


def variable_results(action: str, payload: object, reply: object) -> list[VariableResult]:
    """(attribute, status, reason, value) per attribute of an answered Get/SetVariables."""
    if not isinstance(reply, dict):
        return []
    said = reply.get("getVariableResult" if action == READ_VARIABLES else "setVariableResult")
    results = []
    for attribute, result in zip(variables_asked(action, payload), said or [], strict=False):
        results.append(
            VariableResult(
                attribute=attribute,
                status=result.get("attributeStatus", "?"),
                reason=(result.get("attributeStatusInfo") or {}).get("reasonCode"),
                value=result.get("attributeValue") if action == READ_VARIABLES else None,
            )
        )
    return results


# What a charger said of one setting it was told to change, in the domain's words.
CHANGE_OUTCOMES = {
    "Accepted": "accepted",
    "RebootRequired": "reboot_required",
    "Rejected": "rejected",
    # 1.6 ChangeConfiguration's unknown key; 2.0.1 SetVariables' unknown names and types.
    "NotSupported": "not_supported",
    "UnknownComponent": "not_supported",
    "UnknownVariable": "not_supported",
    "NotSupportedAttributeType": "not_supported",
}


def keys_asked(action: str, payload: object) -> list[str] | None:
    """The 1.6 keys a GetConfiguration asks for; None when it asks for every key."""
    if action != READ_KEYS or not isinstance(payload, dict):
        return []
    return [str(key) for key in payload.get("key") or []] or None


def change_outcomes(action: str, payload: object, reply: object) -> list[str]:
    """Per setting a ChangeConfiguration or SetVariables carried, in its order, what the
    charger said: accepted, reboot_required, rejected or not_supported ("rejected" for a
    status this layer does not know)."""
    if not isinstance(reply, dict):
        return []
    if action == CHANGE_KEY:
        return [CHANGE_OUTCOMES.get(str(reply.get("status")), "rejected")]
    if action == CHANGE_VARIABLES:
        return [
            CHANGE_OUTCOMES.get(result.status, "rejected")
            for result in variable_results(action, payload, reply)
        ]
    return []


# Why a command makes its charger restart.
RESTART = "restart"  # a reset, or a change the charger applies only after a restart
FIRMWARE = "firmware"  # new firmware, installed by restarting


def restart_asked(action: str, reply: object) -> str | None:
    """Whether a command the charger answered with `reply` makes it restart, and why (`RESTART`
    or `FIRMWARE`), or None: a reset it accepted (2.0.1: or scheduled for when it is idle), a
    firmware update it took on, a configuration change it accepted only with a restart (1.6
    ChangeConfiguration's status, 2.0.1 SetVariables' per-variable status)."""
    status = reply.get("status") if isinstance(reply, dict) else None
    if action == "Reset":
        return RESTART if status in ("Accepted", "Scheduled") else None
    if action in ("UpdateFirmware", "SignedUpdateFirmware"):
        # 1.6 UpdateFirmware's reply is empty; the others say whether they took it on.
        return FIRMWARE if status in (None, "Accepted", "AcceptedCanceled") else None
    return RESTART if _says_restart_required(reply) else None


def _says_restart_required(reply: object) -> bool:
    if isinstance(reply, dict):
        return any(_says_restart_required(value) for value in reply.values())
    if isinstance(reply, list):
        return any(_says_restart_required(value) for value in reply)
    return reply == "RebootRequired"


def charging_profile_accepted(reply: JsonDict | None) -> bool:
    """Whether a SetChargingProfile reply (either version) says the charger took the profile."""
    return reply is not None and reply.get("status") == "Accepted"


# Firmware updates and log uploads: the commands, and what their status notifications mean.
FIRMWARE_UPDATES = ("UpdateFirmware", "SignedUpdateFirmware")
LOG_UPLOADS = ("GetDiagnostics", "GetLog")
OTHER_STAGE = "other"
# Every FirmwareStatus of 1.6, of its security extension (SignedFirmwareStatusNotification)
# and of 2.0.1, by the stage of the update it reports.
FIRMWARE_STAGES = {
    "Idle": "idle",
    "DownloadScheduled": "accepted",
    "Downloading": "downloading",
    "DownloadPaused": "downloading",
    "Downloaded": "downloaded",
    "SignatureVerified": "downloaded",
    "InstallScheduled": "downloaded",
    "Installing": "installing",
    "InstallRebooting": "installing",
    "Installed": "installed",
    "DownloadFailed": "failed",
    "InvalidSignature": "failed",
    "InstallationFailed": "failed",
    "InstallVerificationFailed": "failed",
}
# 1.6 DiagnosticsStatus and the UploadLogStatus of 1.6's security extension and 2.0.1.
UPLOAD_STAGES = {
    "Idle": "idle",
    "Uploading": "uploading",
    "Uploaded": "uploaded",
    "UploadFailed": "failed",
    "UploadFailure": "failed",
    "BadMessage": "failed",
    "NotSupportedOperation": "failed",
    "PermissionDenied": "failed",
    "AcceptedCanceled": "failed",
}


# Upload failures a charger plausibly reports when it cannot upload with the URL's protocol
# (an FTP-only charger given an HTTP URL): plain 1.6's only one, UploadFailed (it tried and could
# not); the security extension's and 2.0.1's NotSupportedOperation (the protocol) and BadMessage
# (a protocol incompatibility).
UPLOAD_PROTOCOL_FAILURES = frozenset({"UploadFailed", "NotSupportedOperation", "BadMessage"})


def operation_accepted(action: str, reply: object) -> tuple[bool, str]:
    """Whether a charger took on a firmware update or a log upload, from its reply; with the
    reason in words when it did not. (1.6 UpdateFirmware's reply is empty: taken on.)"""
    status = reply.get("status") if isinstance(reply, dict) else None
    if action in FIRMWARE_UPDATES:
        if status in (None, "Accepted", "AcceptedCanceled"):
            return True, ""
        return False, f"The charger refused the update: {status}."
    if action == "GetDiagnostics":
        # A 1.6 charger that has nothing to upload answers without a file name.
        if isinstance(reply, dict) and reply.get("fileName"):
            return True, ""
        return False, "The charger has no diagnostics to upload (no file name in its reply)."
    if status in ("Accepted", "AcceptedCanceled"):
        return True, ""
    return False, f"The charger refused the upload: {status}."


# Reservations: the two commands, and what their replies say.
RESERVE = "ReserveNow"
CANCEL_RESERVATION = "CancelReservation"
RESERVATION_ACTIONS = (RESERVE, CANCEL_RESERVATION)


def reply_status(reply: object) -> str:
    """The `status` a reply carries (ReserveNow: Accepted, Occupied, Faulted, Unavailable,
    Rejected; CancelReservation: Accepted, Rejected); empty when it carries none."""
    status = reply.get("status") if isinstance(reply, dict) else None
    return str(status) if status else ""


# --- The local authorization list ----------------------------------------------------------

LOCAL_LIST_VERSION = "GetLocalListVersion"
LOCAL_LIST_UPDATE = "SendLocalList"
LOCAL_LIST_ACTIONS = (LOCAL_LIST_VERSION, LOCAL_LIST_UPDATE)
# What a charger may answer to a local list update, by what it means for the next one.
LIST_ACCEPTED = "Accepted"
LIST_NOT_SUPPORTED = "NotSupported"


@dataclass(frozen=True)
class ListCapabilities:
    """Whether a charger keeps a local list (None: it did not say), why not, and its limits
    (None: it named none): entries it holds, entries and bytes one update may carry."""

    supported: bool | None
    reason: str = ""
    capacity: int | None = None
    per_message: int | None = None
    bytes_per_message: int | None = None


def _count(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _false(value: object) -> bool:
    return str(value).strip().lower() == "false"


def list_capabilities(action: str, reply: object) -> ListCapabilities:
    """What a GetConfiguration (1.6) or GetVariables (2.0.1) of the local list's keys says."""
    if not isinstance(reply, dict):
        return ListCapabilities(supported=None)
    if action == READ_KEYS:
        values = {key.key: key.value for key in configuration_keys(reply)}
        profiles = values.get("SupportedFeatureProfiles")
        if profiles is not None and "LocalAuthListManagement" not in profiles.split(","):
            return ListCapabilities(False, "No LocalAuthListManagement feature profile.")
        if _false(values.get("LocalAuthListEnabled")):
            return ListCapabilities(False, "LocalAuthListEnabled is false on the charger.")
        return ListCapabilities(
            supported=True,
            capacity=_count(values.get("LocalAuthListMaxLength")),
            per_message=_count(values.get("SendLocalListMaxLength")),
        )
    found: dict[str, object] = {}
    for result in reply.get("getVariableResult") or []:
        if not isinstance(result, dict) or result.get("attributeStatus") != "Accepted":
            continue
        found[str((result.get("variable") or {}).get("name"))] = result.get("attributeValue")
    if "Available" not in found and "Enabled" not in found:
        return ListCapabilities(False, "No LocalAuthListCtrlr in the device model.")
    if _false(found.get("Available")):
        return ListCapabilities(False, "LocalAuthListCtrlr.Available is false.")
    if _false(found.get("Enabled")):
        return ListCapabilities(False, "LocalAuthListCtrlr.Enabled is false on the charger.")
    return ListCapabilities(
        supported=True,
        per_message=_count(found.get("ItemsPerMessage")),
        bytes_per_message=_count(found.get("BytesPerMessage")),
    )


def list_capacity(characteristics: object) -> int | None:
    """The entries a 2.0.1 charger's list holds: the maxLimit of LocalAuthListCtrlr.Entries
    as a NotifyReport described it."""
    if not isinstance(characteristics, dict):
        return None
    return _count(characteristics.get("maxLimit"))


def list_version(reply: object) -> int | None:
    """The version a GetLocalListVersion reply names (1.6 -1: the charger keeps no list)."""
    if not isinstance(reply, dict):
        return None
    version = reply.get("listVersion", reply.get("versionNumber"))
    return version if isinstance(version, int) else None


def list_update_status(reply: object) -> str:
    """Accepted, Failed, VersionMismatch or NotSupported (1.6), from a SendLocalList reply."""
    status = reply.get("status") if isinstance(reply, dict) else None
    return str(status) if status else "Failed"


# --- Certificates ------------------------------------------------------------------------------

CERTIFICATE_SIGNED = "CertificateSigned"
INSTALL_CERTIFICATE = "InstallCertificate"
LIST_CERTIFICATES = "GetInstalledCertificateIds"
DELETE_CERTIFICATE = "DeleteCertificate"
# The commands whose replies the certificates domain follows.
CERTIFICATE_ACTIONS = (
    CERTIFICATE_SIGNED,
    INSTALL_CERTIFICATE,
    LIST_CERTIFICATES,
    DELETE_CERTIFICATE,
)
# A CSR's certificate type as the domain names its use (1.6 sends none: a charge point's).
CERTIFICATE_USES = {"ChargingStationCertificate": "charging_station", "V2GCertificate": "v2g"}
# Root certificate types of either version, by the domain's kind.
ROOT_KINDS = {
    "CentralSystemRootCertificate": "csms_root",
    "CSMSRootCertificate": "csms_root",
    "ManufacturerRootCertificate": "manufacturer_root",
    "V2GRootCertificate": "v2g_root",
    "MORootCertificate": "mo_root",
}


@dataclass(frozen=True)
class SigningAsk:
    """What a SignCertificate asks: the CSR and the use of the certificate."""

    csr: str
    use: str


def signing_ask(payload: JsonDict) -> SigningAsk:
    kind = payload.get("certificateType") or "ChargingStationCertificate"
    return SigningAsk(csr=payload["csr"], use=CERTIFICATE_USES.get(kind, f"other:{kind}"[:20]))


def certificate_status(reply: object) -> str:
    """The status of a certificate command's reply ('' when there is none)."""
    if not isinstance(reply, dict):
        return ""
    return str(reply.get("status") or "")


@dataclass(frozen=True)
class InstalledId:
    """One certificate a charger listed: its kind and hash data (snake_case, as the domain
    keeps them)."""

    kind: str
    hash_data: dict[str, str]


def _hash_data(wire: object) -> dict[str, str] | None:
    if not isinstance(wire, dict):
        return None
    try:
        return {
            "hash_algorithm": str(wire.get("hashAlgorithm") or "SHA256"),
            "issuer_name_hash": str(wire["issuerNameHash"]),
            "issuer_key_hash": str(wire["issuerKeyHash"]),
            "serial_number": str(wire["serialNumber"]),
        }
    except KeyError:
        return None


def listed_kinds(payload: object) -> list[str]:
    """The root kinds a GetInstalledCertificateIds asked for (none named: every kind)."""
    asked = payload.get("certificateType") if isinstance(payload, dict) else None
    if asked is None:
        return sorted(set(ROOT_KINDS.values()))
    names = asked if isinstance(asked, list) else [asked]
    return sorted({ROOT_KINDS[name] for name in names if name in ROOT_KINDS})


def installed_ids(payload: object, reply: object) -> list[InstalledId]:
    """The root certificates a GetInstalledCertificateIds reply lists (1.6: of the one type
    asked; 2.0.1: each with its type)."""
    if not isinstance(reply, dict) or reply.get("status") != "Accepted":
        return []
    found: list[InstalledId] = []
    if "certificateHashDataChain" in reply:
        for entry in reply.get("certificateHashDataChain") or []:
            kind = ROOT_KINDS.get(str(entry.get("certificateType")))
            data = _hash_data(entry.get("certificateHashData"))
            if kind and data:
                found.append(InstalledId(kind=kind, hash_data=data))
        return found
    kinds = listed_kinds(payload)
    for wire in reply.get("certificateHashData") or []:
        data = _hash_data(wire)
        if data and len(kinds) == 1:
            found.append(InstalledId(kind=kinds[0], hash_data=data))
    return found


def deleted_hash_data(payload: object) -> dict[str, str] | None:
    """The hash data a DeleteCertificate named."""
    if not isinstance(payload, dict):
        return None
    return _hash_data(payload.get("certificateHashData"))


def renewal_use(payload: object) -> str:
    """The use of the certificate a renewal trigger asked for: 'v2g' for 2.0.1's
    SignV2GCertificate, else 'charging_station' (1.6 knows no other)."""
    message = payload.get("requestedMessage") if isinstance(payload, dict) else None
    return "v2g" if message == "SignV2GCertificate" else "charging_station"
