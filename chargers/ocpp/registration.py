"""What a charger that is not Accepted (Pending, Rejected) may send and be sent.

1.6 (4.2, BootNotification) and 2.0.1 (B02, Pending): until the CSMS accepts a charger, the
charger sends nothing but BootNotification unless the CSMS asked for it, and everything else
it sends is answered SecurityError (`CentralSystem.refusal`). The CSMS may meanwhile read and
change the charger's configuration and trigger messages; what it asked for is answered as
usual: the message a TriggerMessage the charger accepted names, the reports a GetBaseReport
or GetReport announces, the status notifications of a log upload or firmware update. It
must not act as if the charger were accepted: remote starts and stops are not sent to it.
"""

from __future__ import annotations

from chargers.ocpp import JsonDict

# How long after the charger accepted a request its messages are taken from a charger that is
# not Accepted: the triggered message comes at once, a report or upload status within minutes.
EXPECTED_FOR_SECONDS = 600.0

# TriggerMessage (1.6, its security extension's ExtendedTriggerMessage, 2.0.1): the action a
# requested message is sent as, where it differs from the requested message's name.
TRIGGERS = ("TriggerMessage", "ExtendedTriggerMessage")
TRIGGERED_AS = {
    "SignChargePointCertificate": "SignCertificate",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}
# Requests whose acceptance announces messages of the charger's (the reports it sends back,
# the status of what it was asked to do).
ANNOUNCED = {
    "GetBaseReport": ("NotifyReport",),
    "GetReport": ("NotifyReport",),
    "GetMonitoringReport": ("NotifyMonitoringReport",),
    "GetChargingProfiles": ("ReportChargingProfiles",),
    "GetDisplayMessages": ("NotifyDisplayMessages",),
    "CustomerInformation": ("NotifyCustomerInformation",),
    "GetLog": ("LogStatusNotification",),
    "GetDiagnostics": ("DiagnosticsStatusNotification",),
    "UpdateFirmware": ("FirmwareStatusNotification",),
    "SignedUpdateFirmware": ("SignedFirmwareStatusNotification",),
}
# What a charger approved while connected is sent, so that it boots again and hears it is
# accepted (1.6 and 2.0.1 spell it alike), and who sends it, on the command's record.
BOOT_AGAIN: tuple[str, JsonDict] = ("TriggerMessage", {"requestedMessage": "BootNotification"})
APPROVAL_SOURCE = "approval"
# A reply accepting the request.
ACCEPTED: JsonDict = {"status": "Accepted"}
# 1.6 answers these with no status (GetDiagnostics a file name, UpdateFirmware nothing).
WITHOUT_STATUS = frozenset({"GetDiagnostics", "UpdateFirmware"})
# What the CSMS does not send to a charger that is not Accepted (1.6 4.2, 2.0.1 B02.FR.02).
NOT_BEFORE_ACCEPTED = frozenset(
    {
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "RequestStartTransaction",
        "RequestStopTransaction",
    }
)


def messages_requested(action: str, payload: JsonDict, reply: object) -> tuple[str, ...]:
    """The actions the charger will send because it accepted this command."""
    status = reply.get("status") if isinstance(reply, dict) else None
    if action in TRIGGERS:
        if status != "Accepted":
            return ()
        requested = str(payload.get("requestedMessage", ""))
        return (TRIGGERED_AS.get(requested, requested),)
    if action in ANNOUNCED and (status == "Accepted" or action in WITHOUT_STATUS):
        return ANNOUNCED[action]
    return ()


def command_refusal(action: str, registration_status: str) -> str:
    """Why the command is not sent to a charger in this registration status; empty: it is."""
    if registration_status == "Accepted" or action not in NOT_BEFORE_ACCEPTED:
        return ""
    return f"The charger is {registration_status}: it is not sent {action} until it is accepted."
