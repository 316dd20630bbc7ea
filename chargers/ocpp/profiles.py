"""Smart charging's wire forms read into domain objects (`smart_charging.schedules`): an ISO
15118 EV's needs and schedule, the profiles a charger reports it holds, a composite schedule in
a command's reply, and the session limit a SetChargingProfile command carried. 1.6 and 2.0.1
spell a charging schedule alike; where they differ, both are read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chargers.ocpp import JsonDict
from chargers.ocpp.builders import CHARGING_LIMIT_ACTION, LIMIT_PURPOSES
from chargers.ocpp.errors import CallRefused
from chargers.ocpp.frames import parse_timestamp
from chargers.smart_charging.schedules import (
    Composite,
    EvNeeds,
    HeldProfile,
    Period,
    Schedule,
    SentLimit,
)

# The commands whose payloads and replies these readers understand.
READ_COMPOSITE = "GetCompositeSchedule"
READ_PROFILES = "GetChargingProfiles"  # answered by ReportChargingProfiles messages

# A profile's purpose (either version) -> the control loop's kind of limit.
KIND_OF_PURPOSE = {
    purpose: kind for kind, purposes in LIMIT_PURPOSES.items() for purpose in purposes
}


def schedule_of(wire: JsonDict) -> Schedule:
    """A ChargingSchedule(Type) of either version. Its periods must begin in order, the
    first at 0 (CallRefused otherwise: what the schema cannot say)."""
    periods = tuple(
        Period(
            int(p["startPeriod"]),
            None if p.get("limit") is None else float(p["limit"]),  # 2.1 may set none
            p.get("numberPhases"),
        )
        for p in wire.get("chargingSchedulePeriod") or []
    )
    starts = [p.start_s for p in periods]
    if not starts or starts[0] != 0 or starts != sorted(set(starts)):
        raise CallRefused(
            "property", "chargingSchedulePeriod: periods begin in order, the first at 0."
        )
    start = wire.get("startSchedule")
    return Schedule(
        unit=wire["chargingRateUnit"],
        periods=periods,
        start=None if start is None else parse_timestamp(start),
        duration_s=wire.get("duration"),
    )


def _evse(payload: JsonDict) -> int:
    # The schemas allow 0; the standard says these messages name an EVSE.
    if payload["evseId"] < 1:
        raise CallRefused("property", "evseId: an EV is connected to an EVSE numbered from 1.")
    return int(payload["evseId"])


# The most an EV's current, power or energy can be (the schemas bound none): more is no EV's.
MOST_AMPERES, MOST_WATTS, MOST_WH = 10_000, 2**31 - 1, 2**31 - 1


def _plausible(name: str, value: float | None, most: float) -> float | None:
    if value is not None and not 0 <= value <= most:
        raise CallRefused("property", f"{name}: {value} is not an EV's.")
    return value


def ev_needs(payload: JsonDict) -> tuple[int, EvNeeds]:
    """A NotifyEVChargingNeeds: the EVSE and what the EV needs."""
    evse_id = _evse(payload)
    needs = payload["chargingNeeds"]
    ac = needs.get("acChargingParameters") or {}
    dc = needs.get("dcChargingParameters") or {}
    departure = needs.get("departureTime")
    energy = _plausible("energyAmount", ac.get("energyAmount", dc.get("energyAmount")), MOST_WH)
    power = dc.get("evMaxPower")
    if power is None and dc:
        # A DC EV that gives no power takes at most its current at its voltage.
        power = dc["evMaxCurrent"] * dc["evMaxVoltage"]
    return evse_id, EvNeeds(
        transfer=needs["requestedEnergyTransfer"],
        departure_at=None if departure is None else parse_timestamp(departure),
        energy_wh=None if energy is None else int(energy),
        min_current_a=_plausible("evMinCurrent", ac.get("evMinCurrent"), MOST_AMPERES),
        max_current_a=_plausible("evMaxCurrent", ac.get("evMaxCurrent"), MOST_AMPERES),
        max_power_w=_plausible("evMaxPower", None if power is None else float(power), MOST_WATTS),
        max_schedule_tuples=_tuples(payload.get("maxScheduleTuples")),
    )


def _tuples(value: object) -> int | None:
    """maxScheduleTuples: a count of at least 1 (the schema says only "integer")."""
    return int(value) if isinstance(value, int) and value >= 1 else None


def ev_schedule(payload: JsonDict) -> tuple[int, Schedule, datetime]:
    """A NotifyEVChargingSchedule: the EVSE, the EV's schedule and its time base (the moment
    its periods count from)."""
    evse_id = _evse(payload)
    return evse_id, schedule_of(payload["chargingSchedule"]), parse_timestamp(payload["timeBase"])


def held_profiles(payload: JsonDict) -> list[HeldProfile]:
    """The profiles of a ReportChargingProfiles (each with the first of its schedules: the
    one a charger uses)."""
    held = []
    for profile in payload["chargingProfile"]:
        purpose = profile["chargingProfilePurpose"]
        held.append(
            HeldProfile(
                evse_id=int(payload["evseId"]),
                source=payload["chargingLimitSource"],
                profile_id=int(profile["id"]),
                stack_level=int(profile["stackLevel"]),
                kind=KIND_OF_PURPOSE.get(purpose, ""),
                purpose=purpose,
                transaction_id=str(profile.get("transactionId") or ""),
                schedule=schedule_of(profile["chargingSchedule"][0]),
            )
        )
    return held


def profiles_request_id(payload: object) -> int | None:
    """The request id a GetChargingProfiles command's reports carry."""
    return payload.get("requestId") if isinstance(payload, dict) else None


def report_parts(payload: JsonDict) -> tuple[int, bool]:
    """A ReportChargingProfiles' request id, and whether more reports of it follow."""
    return int(payload["requestId"]), bool(payload.get("tbc", False))


# What a stored command or reply that is not what it should be raises when read (a reply is
# kept even when it breaks its schema).
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, IndexError, CallRefused)


def composite(action: str, payload: object, reply: object) -> Composite | None:
    """The composite schedule a GetCompositeSchedule command (either version) got back; None
    for another command, a charger that had none to give, or a reply that cannot be read."""
    if action != READ_COMPOSITE or not isinstance(reply, dict) or not isinstance(payload, dict):
        return None
    try:
        return _composite(payload, reply)
    except _UNREADABLE:
        return None


def _composite(payload: JsonDict, reply: JsonDict) -> Composite | None:
    if reply.get("status") != "Accepted":
        return None
    if "schedule" in reply:  # 2.0.1
        wire = reply["schedule"]
        evse_id, start = wire.get("evseId"), wire.get("scheduleStart")
    else:  # 1.6
        wire = reply.get("chargingSchedule")
        evse_id, start = reply.get("connectorId"), reply.get("scheduleStart")
    if not isinstance(wire, dict):
        return None
    if evse_id is None:
        evse_id = payload.get("evseId", payload.get("connectorId", 0))
    schedule = schedule_of(wire)
    if schedule.start is None and start is not None:
        schedule = replace(schedule, start=parse_timestamp(start))
    return Composite(evse_id=int(evse_id), schedule=schedule)


def sent_session_limit(action: str, payload: object) -> SentLimit | None:
    """The session limit (TxProfile) a SetChargingProfile command sent, either version; None
    for any other command or profile."""
    if action != CHARGING_LIMIT_ACTION or not isinstance(payload, dict):
        return None
    try:
        return _sent_session_limit(payload)
    except _UNREADABLE:
        return None


def _sent_session_limit(payload: JsonDict) -> SentLimit | None:
    profile = payload.get("chargingProfile") or payload.get("csChargingProfiles")
    if (
        not isinstance(profile, dict)
        or KIND_OF_PURPOSE.get(profile.get("chargingProfilePurpose", "")) != "session"
    ):
        return None
    schedule = profile.get("chargingSchedule")
    if isinstance(schedule, list):  # 2.0.1 lists up to three; the charger uses the first
        schedule = schedule[0] if schedule else None
    if not isinstance(schedule, dict):
        return None
    return SentLimit(
        evse_id=int(payload["evseId"] if "evseId" in payload else payload["connectorId"]),
        transaction_id=str(profile.get("transactionId", "")),
        schedule=schedule_of(schedule),
    )
