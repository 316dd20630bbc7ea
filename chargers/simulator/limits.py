"""Charging profiles the CSMS installed, reduced to what the simulation needs: a power cap.

Both versions' profiles arrive as snake_case dicts (the ocpp library converts the keys). The
schedule period in force matters here, and how purposes stack (`Limits.cap_w`); recurrence is
out of scope for a load simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chargers.simulator.events import parse_iso
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES

# A session's limit first; the default applies where a session has none.
TX_PURPOSES = ("TxProfile", "TxDefaultProfile")


@dataclass
class Period:
    start: float
    limit: float
    phases: int


@dataclass
class Profile:
    id: int
    connector_id: int  # 0: the whole charger
    purpose: str
    stack_level: int
    unit: str  # "A" or "W"
    periods: list[Period]
    starts_at: float  # on the event loop's clock
    duration: float | None
    transaction_id: int | str | None = None
    # Who set the limit (CSO: the CSMS; EMS, SO, Other: a local constraint) and the profile
    # as it arrived, for GetChargingProfiles.
    source: str = "CSO"
    raw: dict | None = None

    def limit_w(self, now: float) -> float | None:
        elapsed = now - self.starts_at
        if elapsed < 0 or (self.duration is not None and elapsed > self.duration):
            return None
        current = None
        for period in self.periods:
            if period.start <= elapsed:
                current = period
        if current is None:
            return None
        if self.unit == "A":
            return current.limit * NOMINAL_VOLTAGE * current.phases
        return current.limit


def parse_profile(
    data: dict, connector_id: int, *, now: float, wall: datetime, source: str = "CSO"
) -> Profile:
    """A 1.6 csChargingProfiles or a 2.0.1 chargingProfile, keys already snake_case."""
    schedule = data["charging_schedule"]
    if isinstance(schedule, list):  # 2.0.1 allows up to three schedules; use the first
        schedule = schedule[0]
    starts_at = now
    start_schedule = parse_iso(schedule.get("start_schedule"))
    if start_schedule is not None:
        starts_at = now - (wall - start_schedule).total_seconds()
    periods = [
        Period(
            start=float(p["start_period"]),
            limit=float(p["limit"]),
            phases=int(p.get("number_phases") or PHASES),
        )
        for p in schedule["charging_schedule_period"]
    ]
    duration = schedule.get("duration")
    return Profile(
        id=int(data.get("charging_profile_id", data.get("id", 0))),
        connector_id=connector_id,
        purpose=data["charging_profile_purpose"],
        stack_level=int(data.get("stack_level", 0)),
        unit=schedule["charging_rate_unit"],
        periods=sorted(periods, key=lambda p: p.start),
        starts_at=starts_at,
        duration=None if duration is None else float(duration),
        transaction_id=data.get("transaction_id"),
        source=source,
        raw=data,
    )


class Limits:
    def __init__(self):
        self.profiles: list[Profile] = []

    def install(self, profile: Profile) -> None:
        # A new profile replaces one with the same id, or with the same place in the stack.
        self.profiles = [
            p
            for p in self.profiles
            if p.id != profile.id
            and not (
                p.connector_id == profile.connector_id
                and p.purpose == profile.purpose
                and p.stack_level == profile.stack_level
            )
        ]
        self.profiles.append(profile)

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not matches(p)]
        return before - len(self.profiles)

    def end_transaction(self, connector_id: int) -> None:
        """TxProfiles end with the transaction on their connector."""
        self.profiles = [
            p
            for p in self.profiles
            if not (p.purpose == "TxProfile" and p.connector_id == connector_id)
        ]

    def cap_w(self, connector_id: int, now: float) -> float | None:
        """The limit on a connector, as the standards compose it: a TxProfile in force
        replaces the TxDefaultProfile (a connector's own before the charger's, the highest
        stack level first); the charger's maximum and external constraints cap both."""
        in_force = [
            (p, limit)
            for p in self.profiles
            if p.connector_id in (0, connector_id) and (limit := p.limit_w(now)) is not None
        ]
        caps = [limit for p, limit in in_force if p.purpose not in TX_PURPOSES]
        for purpose in TX_PURPOSES:
            chosen = [(p, limit) for p, limit in in_force if p.purpose == purpose]
            if chosen:
                _, limit = max(chosen, key=lambda pl: (pl[0].connector_id != 0, pl[0].stack_level))
                caps.append(limit)
                break
        return min(caps) if caps else None
