"""Hypothetical sessions for pricing tests, written as the steps a driver takes:
`session("2024-01-01T16:55", charge(10, kwh=1), park(2), tz="Europe/Berlin")`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.pricing import Period


def charge(minutes, kwh=0, *, current=None, power=None):
    return ("charge", minutes, kwh, current, power)


def park(minutes):
    return ("park", minutes, 0, None, None)


def session(start: str, *steps, tz: str = "UTC") -> list[Period]:
    """Periods one after the other from `start` (local time of `tz`, or an ISO time with an
    offset). Minutes are real minutes: a DST change inside a session does not stretch it."""
    at = datetime.fromisoformat(start)
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    at = at.astimezone(UTC)
    periods = []
    for kind, minutes, kwh, current, power in steps:
        end = at + timedelta(minutes=minutes)
        periods.append(
            Period(
                start=at,
                end=end,
                energy_wh=Decimal(str(kwh)) * 1000,
                charging=kind == "charge",
                current_a=None if current is None else Decimal(str(current)),
                power_kw=None if power is None else Decimal(str(power)),
            )
        )
        at = end
    return periods
