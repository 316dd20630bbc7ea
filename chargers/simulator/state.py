"""What a simulated charger keeps track of: its connectors, the sessions and reservations on
them, and its local authorization list. Plain data; the collaborators of `SimulatedCharger`
change it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from ocpp.exceptions import OCPPError

from chargers.simulator.meter import Meter, Vehicle

CHARGING_PHASES = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
FAULT_CODES = ("GroundFailure", "OverCurrentFailure", "HighTemperature", "PowerMeterFailure")


class Offline(Exception):
    """The charger has no connection it may use right now."""


def describe(error: BaseException) -> str:
    if isinstance(error, OCPPError):
        return f"{error.code}: {error.description}"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


@dataclass
class Reservation:
    id: int
    connector_id: int
    id_tag: str
    expires_at: datetime
    timer: asyncio.TimerHandle | None = None


@dataclass
class Session:
    connector_id: int
    id_tag: str
    number: int
    started_at: datetime
    meter_start_wh: float
    vehicle: Vehicle
    tag_type: str = "ISO14443"
    transaction_id: int | str | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    seq_no: int = 0
    # An ISO 15118 car talks to the charger: it states its needs and negotiates its schedule.
    iso15118: bool = False
    duration: float | None = None
    fault_after: float | None = None
    last_energy_wh: float = 0.0
    begun: bool = False  # the transaction was started (not just a car plugged in)
    stopped: bool = False
    stop_reason: str | None = None
    meter_stop_wh: float | None = None
    start_failed: bool = False
    task: asyncio.Task | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def energy_wh(self) -> float:
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.last_energy_wh
        return max(0.0, end - self.meter_start_wh)


@dataclass
class Connector:
    id: int
    meter: Meter
    operative: bool = True
    pending_inoperative: bool = False
    error_code: str | None = None
    session: Session | None = None
    reservation: Reservation | None = None
    phase: str | None = None  # one of CHARGING_PHASES while a car is plugged in
    reported: tuple | None = None

    @property
    def state(self) -> str:
        """The OCPP 1.6 status; 2.0.1 folds the charging phases into Occupied."""
        if self.error_code:
            return "Faulted"
        if self.phase:
            return self.phase
        if not self.operative:
            return "Unavailable"
        if self.reservation:
            return "Reserved"
        return "Available"


class LocalList:
    """The id tags the CSMS sent with SendLocalList (tag -> status), and the list's version.

    `capacity` is how many entries the charger holds and `per_message` how many one update may
    carry (None: no limit); an update past either is Failed and changes nothing."""

    def __init__(self, capacity: int | None = None, per_message: int | None = None):
        self.version = 0
        self.tags: dict[str, str] = {}
        self.capacity = capacity
        self.per_message = per_message
        # How many updates, and of which kind, the charger took (tests count them).
        self.updates: list[tuple[str, int]] = []

    def __contains__(self, tag: str) -> bool:
        return tag in self.tags

    def __len__(self) -> int:
        return len(self.tags)

    def get(self, tag: str, default: str | None = None) -> str | None:
        return self.tags.get(tag, default)

    def remove(self, tag: str) -> None:
        self.tags.pop(tag, None)

    def update(self, version: int, update_type: str, entries) -> str:
        """entries: (id tag, status or None to remove). Accepted, VersionMismatch or Failed."""
        entries = list(entries)
        if self.per_message is not None and len(entries) > self.per_message:
            return "Failed"
        if update_type == "Full":
            tags: dict[str, str] = {}
        elif version <= self.version:
            return "VersionMismatch"
        else:
            tags = dict(self.tags)
        for tag, status in entries:
            if status is None:
                tags.pop(tag, None)
            else:
                tags[tag] = status
        if self.capacity is not None and len(tags) > self.capacity:
            return "Failed"
        self.tags = tags
        self.version = version
        self.updates.append((update_type, len(entries)))
        return "Accepted"
