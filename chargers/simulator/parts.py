"""The base of each version's parts of a simulated charger (transactions, device model, smart
charging): classes mixed into a SimulatedCharger subclass."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger

    # To mypy, a part is the charger it is mixed into.
    ChargerPart = SimulatedCharger
else:
    ChargerPart = object
