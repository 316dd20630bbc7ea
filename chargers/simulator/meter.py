"""The electricity meter of one connector and the car plugged into it.

Energy is the integral of power over time: between two readings the register advances by the
power of the previous reading times the elapsed time, so Energy.Active.Import.Register only
ever rises and agrees with Power.Active.Import. The car charges at the lowest of its own
maximum, the charger's maximum and any charging profile, and tapers above 80 % state of charge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NOMINAL_VOLTAGE = 230.0
PHASES = 3

# Every measurand the simulator can report, in the order it reports them.
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
)


@dataclass
class Vehicle:
    capacity_wh: float
    soc_start: float
    max_power_w: float

    @classmethod
    def random(cls, rng: random.Random) -> Vehicle:
        return cls(
            capacity_wh=rng.choice((40_000.0, 58_000.0, 77_000.0, 82_000.0)),
            soc_start=round(rng.uniform(10.0, 60.0), 1),
            max_power_w=rng.choice((11_000.0, 16_500.0, 22_000.0)),
        )


@dataclass(frozen=True)
class Reading:
    energy_wh: float
    power_w: float
    currents_a: tuple[float, float, float]
    voltages_v: tuple[float, float, float]
    soc: int | None


class Meter:
    def __init__(self, rng: random.Random, *, max_power_w: float, register_wh: float):
        self.rng = rng
        self.max_power_w = max_power_w
        self.register_wh = register_wh
        self.power_w = 0.0
        self.vehicle: Vehicle | None = None
        self.session_start_wh = register_wh
        self._last = 0.0

    def plug(self, vehicle: Vehicle, now: float) -> None:
        self.vehicle = vehicle
        self.session_start_wh = self.register_wh
        self._last = now
        self.power_w = 0.0

    def unplug(self, now: float, cap_w: float | None = None) -> None:
        self.advance(now, cap_w)
        self.vehicle = None
        self.power_w = 0.0

    @property
    def soc(self) -> float | None:
        if self.vehicle is None:
            return None
        delivered = self.register_wh - self.session_start_wh
        return min(100.0, self.vehicle.soc_start + 100.0 * delivered / self.vehicle.capacity_wh)

    def advance(self, now: float, cap_w: float | None = None) -> None:
        """Add the energy of the elapsed interval, then set the power for the next one."""
        if self.vehicle is None:
            self._last = now
            return
        elapsed = max(0.0, now - self._last)
        self._last = now
        self.register_wh += self.power_w * elapsed / 3600.0
        target = min(self.max_power_w, self.vehicle.max_power_w)
        if cap_w is not None:
            target = min(target, max(0.0, cap_w))
        soc = self.soc or 0.0
        if soc >= 100.0:
            target = 0.0
        elif soc > 80.0:
            # Batteries accept less and less power as they fill up.
            target *= max(0.05, (100.0 - soc) / 20.0)
        if target > 0:
            target *= self.rng.uniform(0.985, 1.0)
        self.power_w = target

    def reading(self, now: float, cap_w: float | None = None) -> Reading:
        self.advance(now, cap_w)
        v1, v2, v3 = (round(NOMINAL_VOLTAGE + self.rng.uniform(-2.5, 2.5), 1) for _ in "123")
        voltages = (v1, v2, v3)
        power = round(self.power_w)
        a1, a2, a3 = (round(power / PHASES / v, 1) for v in voltages)
        currents = (a1, a2, a3)
        soc = self.soc
        return Reading(
            energy_wh=round(self.register_wh, 1),
            power_w=float(power),
            currents_a=currents,
            voltages_v=voltages,
            soc=None if soc is None else int(soc),
        )

    @property
    def full(self) -> bool:
        soc = self.soc
        return soc is not None and soc >= 100.0


def measurands(setting: str) -> list[str]:
    """The measurands a setting (MeterValuesSampledData, TxUpdatedMeasurands, ...) lists, in
    the order the simulator reports them."""
    configured = [m.strip() for m in setting.split(",") if m.strip()]
    return [m for m in MEASURANDS if m in configured]


Sample = tuple[str, float, str | None, str, str]


def samples(reading: Reading, wanted: list[str]) -> list[Sample]:
    """(measurand, value, phase, unit, location) for each value the reading reports."""
    out: list[Sample] = []
    for measurand in wanted:
        if measurand == "Energy.Active.Import.Register":
            out.append((measurand, reading.energy_wh, None, "Wh", "Outlet"))
        elif measurand == "Power.Active.Import":
            out.append((measurand, reading.power_w, None, "W", "Outlet"))
        elif measurand == "Current.Import":
            for phase, amps in zip(("L1", "L2", "L3"), reading.currents_a, strict=True):
                out.append((measurand, amps, phase, "A", "Outlet"))
        elif measurand == "Voltage":
            for phase, volts in zip(("L1", "L2", "L3"), reading.voltages_v, strict=True):
                out.append((measurand, volts, phase, "V", "Outlet"))
        elif measurand == "SoC" and reading.soc is not None:
            out.append((measurand, reading.soc, None, "Percent", "EV"))
    return out
