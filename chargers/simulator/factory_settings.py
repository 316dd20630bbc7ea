"""The settings a simulated charger starts with, as tables: the OCPP 1.6 configuration keys and
the OCPP 2.0.1 device model.

A value in braces is the charger's own, taken from its config when the store is made
({heartbeat_interval}, {model}, ...: see `_own_values`); every other value is the same for every
charger. The order of the rows is the order of GetConfiguration and GetBaseReport answers.
"""

from __future__ import annotations

from chargers.simulator.config import ChargerConfig
from chargers.simulator.keystore import (
    ConfigKey,
    ConfigurationStore,
    DeviceModel,
    OnChange,
    Variable,
    format_seconds,
)
from chargers.simulator.meter import MEASURANDS

FEATURE_PROFILES = (
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
)
# The largest SendLocalList a 2.0.1 station takes, in bytes of its JSON.
LOCAL_LIST_BYTES = 65536

# OCPP 1.6: key, value, mutability, kind (int, bool, measurands, secret or string).
CONFIGURATION_KEYS = (
    ("HeartbeatInterval", "{heartbeat_interval}", "ReadWrite", "int"),
    ("MeterValueSampleInterval", "{meter_interval}", "ReadWrite", "int"),
    ("ClockAlignedDataInterval", "0", "ReadWrite", "int"),
    ("MeterValuesSampledData", "{measurands}", "ReadWrite", "measurands"),
    ("MeterValuesAlignedData", "Energy.Active.Import.Register", "ReadWrite", "measurands"),
    ("StopTxnSampledData", "Energy.Active.Import.Register,SoC", "ReadWrite", "measurands"),
    ("StopTxnAlignedData", "", "ReadWrite", "measurands"),
    ("ConnectionTimeOut", "60", "ReadWrite", "int"),
    ("NumberOfConnectors", "{connectors}", "ReadOnly", "int"),
    (
        "SupportedFeatureProfiles",
        "{feature_profiles}",
        "ReadOnly",
        "string",
    ),
    ("AuthorizeRemoteTxRequests", "false", "ReadWrite", "bool"),
    ("LocalAuthorizeOffline", "true", "ReadWrite", "bool"),
    ("LocalPreAuthorize", "false", "ReadWrite", "bool"),
    ("LocalAuthListEnabled", "{local_list}", "ReadWrite", "bool"),
    ("LocalAuthListMaxLength", "{local_list_max}", "ReadOnly", "int"),
    ("SendLocalListMaxLength", "{local_list_per_message}", "ReadOnly", "int"),
    ("StopTransactionOnInvalidId", "true", "ReadWrite", "bool"),
    ("StopTransactionOnEVSideDisconnect", "true", "ReadWrite", "bool"),
    ("UnlockConnectorOnEVSideDisconnect", "true", "ReadWrite", "bool"),
    ("TransactionMessageAttempts", "{message_attempts}", "ReadWrite", "int"),
    ("TransactionMessageRetryInterval", "{message_retry_interval}", "ReadWrite", "int"),
    ("ResetRetries", "1", "ReadWrite", "int"),
    ("WebSocketPingInterval", "{ping_interval}", "ReadWrite", "int"),
    ("GetConfigurationMaxKeys", "100", "ReadOnly", "int"),
    ("ChargeProfileMaxStackLevel", "8", "ReadOnly", "int"),
    ("ChargingScheduleAllowedChargingRateUnit", "Current,Power", "ReadOnly", "string"),
    ("ChargingScheduleMaxPeriods", "24", "ReadOnly", "int"),
    ("MaxChargingProfilesInstalled", "8", "ReadOnly", "int"),
    ("ReserveConnectorZeroSupported", "false", "ReadOnly", "bool"),
    ("SecurityProfile", "1", "ReadOnly", "int"),
    ("AuthorizationKey", "", "ReadWrite", "secret"),
    ("CustomDisplayCostAndPrice", "{california_pricing}", "ReadOnly", "bool"),
)

# OCPP 2.0.1, per component: variable, value, mutability, data type, unit, instance.
STATION_VARIABLES = {
    "ChargingStation": (
        ("Model", "{model}", "ReadOnly", "string"),
        ("VendorName", "{vendor}", "ReadOnly", "string"),
        ("SerialNumber", "{serial}", "ReadOnly", "string"),
        ("AvailabilityState", "Available", "ReadOnly", "OptionList"),
    ),
    "OCPPCommCtrlr": (
        ("HeartbeatInterval", "{heartbeat_interval}", "ReadWrite", "integer", "s"),
        ("MessageAttempts", "{message_attempts}", "ReadWrite", "integer", None, "TransactionEvent"),
        (
            "MessageAttemptInterval",
            "{message_retry_interval}",
            "ReadWrite",
            "integer",
            "s",
            "TransactionEvent",
        ),
        ("WebSocketPingInterval", "{ping_interval}", "ReadWrite", "integer", "s"),
        ("OfflineThreshold", "60", "ReadWrite", "integer", "s"),
        ("ResetRetries", "1", "ReadWrite", "integer"),
    ),
    "SampledDataCtrlr": (
        ("TxUpdatedInterval", "{meter_interval}", "ReadWrite", "integer", "s"),
        ("TxUpdatedMeasurands", "{measurands}", "ReadWrite", "MemberList"),
        ("TxStartedMeasurands", "Energy.Active.Import.Register", "ReadWrite", "MemberList"),
        ("TxEndedMeasurands", "Energy.Active.Import.Register,SoC", "ReadWrite", "MemberList"),
    ),
    "AlignedDataCtrlr": (("Interval", "0", "ReadWrite", "integer", "s"),),
    "AuthCtrlr": (
        ("AuthorizeRemoteStart", "false", "ReadWrite", "boolean"),
        ("LocalAuthorizeOffline", "true", "ReadWrite", "boolean"),
        ("LocalPreAuthorize", "false", "ReadWrite", "boolean"),
    ),
    "LocalAuthListCtrlr": (
        ("Available", "{local_list}", "ReadOnly", "boolean"),
        ("Enabled", "{local_list}", "ReadWrite", "boolean"),
        ("Entries", "0", "ReadOnly", "integer"),
        ("ItemsPerMessage", "{local_list_per_message}", "ReadOnly", "integer"),
        ("BytesPerMessage", "{local_list_bytes}", "ReadOnly", "integer"),
    ),
    "TxCtrlr": (
        ("StopTxOnInvalidId", "true", "ReadWrite", "boolean"),
        ("EVConnectionTimeOut", "60", "ReadWrite", "integer", "s"),
    ),
    "ReservationCtrlr": (("Enabled", "true", "ReadOnly", "boolean"),),
    "SmartChargingCtrlr": (("Enabled", "true", "ReadOnly", "boolean"),),
    "SecurityCtrlr": (
        ("SecurityProfile", "1", "ReadOnly", "integer"),
        ("Identity", "{identity}", "ReadOnly", "string"),
        ("BasicAuthPassword", "", "WriteOnly", "passwordString"),
    ),
    "DeviceDataCtrlr": (
        ("ItemsPerMessage", "50", "ReadOnly", "integer", None, "GetVariables"),
        ("ItemsPerMessage", "50", "ReadOnly", "integer", None, "SetVariables"),
    ),
}

# Every EVSE has these, after the station's own.
EVSE_VARIABLES = (
    ("AvailabilityState", "Available", "ReadOnly", "OptionList"),
    ("Power", "{max_power_w}", "ReadOnly", "decimal", "W"),
)


def _own_values(config: ChargerConfig) -> dict[str, str]:
    return {
        "model": config.model,
        "vendor": config.vendor,
        "serial": config.serial,
        "identity": config.charger_id,
        "connectors": str(config.connectors),
        "max_power_w": str(round(config.max_power_w)),
        "measurands": ",".join(MEASURANDS),
        "heartbeat_interval": format_seconds(config.heartbeat_interval),
        "meter_interval": format_seconds(config.meter_interval),
        "message_attempts": str(config.message_attempts),
        "message_retry_interval": format_seconds(config.message_retry_interval),
        "ping_interval": format_seconds(config.ping_interval),
        "california_pricing": "true" if config.california_pricing else "false",
        "feature_profiles": ",".join(
            profile
            for profile in FEATURE_PROFILES
            if config.local_list or profile != "LocalAuthListManagement"
        ),
        "local_list": "true" if config.local_list else "false",
        "local_list_max": str(config.local_list_max),
        "local_list_per_message": str(config.local_list_per_message),
        "local_list_bytes": str(LOCAL_LIST_BYTES),
    }


def configuration_store(config: ChargerConfig, on_change: OnChange) -> ConfigurationStore:
    """A 1.6 charger's configuration keys as it leaves the factory."""
    own = _own_values(config)
    keys = [
        ConfigKey(
            name,
            value.format_map(own),
            readonly=mutability == "ReadOnly",
            kind=kind,
            reboot_required=name in config.reboot_required,
        )
        for name, value, mutability, kind in CONFIGURATION_KEYS
    ]
    return ConfigurationStore(keys, on_change=on_change)


def device_model(config: ChargerConfig, on_change: OnChange) -> DeviceModel:
    """A 2.0.1 station's device model as it leaves the factory."""
    own = _own_values(config)

    def variable(component: str, row: tuple, evse: int | None = None) -> Variable:
        name, value, mutability, data_type, unit, instance = row + (None,) * (6 - len(row))
        return Variable(
            component,
            name,
            value.format_map(own),
            mutability,
            data_type,
            evse,
            instance=instance,
            unit=unit,
            reboot_required=f"{component}.{name}" in config.reboot_required,
        )

    variables = [
        variable(component, row) for component, rows in STATION_VARIABLES.items() for row in rows
    ]
    for evse in range(1, config.connectors + 1):
        variables += [variable("EVSE", row, evse) for row in EVSE_VARIABLES]
    return DeviceModel(variables, on_change=on_change)
