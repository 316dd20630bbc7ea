"""Pure arithmetic of meters and clocks: units, plausible timestamps, a session's register and
energy. No database: table-driven tests cover it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from chargers.models import (
    ChargingSession,
    SessionState,
)

# A timestamp more than this far from the server's clock is kept as sent but flagged.
CLOCK_TOLERANCE_FUTURE = timedelta(days=1)


EARLIEST_PLAUSIBLE = datetime(2010, 1, 1, tzinfo=UTC)


def is_suspect(at: datetime, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return at > now + CLOCK_TOLERANCE_FUTURE or at < EARLIEST_PLAUSIBLE


def session_energy(session: ChargingSession) -> Decimal:
    end = session.meter_stop_wh if session.meter_stop_wh is not None else session.meter_last_wh
    if end is None or session.meter_start_wh is None:
        return session.energy_wh
    return max(end - session.meter_start_wh, Decimal(0))


ENERGY = "Energy.Active.Import.Register"


POWER = "Power.Active.Import"


TO_BASE_UNIT = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000}


def to_decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def follow_register(session: ChargingSession, samples: list[dict]) -> None:
    """Track a 2.0.1 session's meter from samples that may arrive out of order: the session
    starts at its lowest register reading and has reached its highest."""
    readings = []
    for sample in samples:
        factor = TO_BASE_UNIT.get(sample["unit"] or "Wh")
        if (
            sample["measurand"] == ENERGY
            and not sample["phase"]
            and factor
            and sample["value"] is not None
            and sample["location"] in ("", "Outlet")
        ):
            readings.append((sample["timestamp"], sample["value"] * factor))
        elif (
            sample["measurand"] == POWER
            and not sample["phase"]
            and factor
            and sample["value"] is not None
            and session.state == SessionState.ACTIVE
        ):
            session.power_w = sample["value"] * factor
    if not readings:
        return
    first, last = min(readings)[1], max(readings)[1]
    if session.meter_start_wh is None or first < session.meter_start_wh:
        session.meter_start_wh = first
    if session.meter_last_wh is None or last > session.meter_last_wh:
        session.meter_last_wh = last
