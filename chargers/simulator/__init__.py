"""Simulated OCPP chargers (1.6J and 2.0.1) for demos, tests and benchmarks of any CSMS.

From Python:

    config = ChargerConfig(url="ws://127.0.0.1:8000/ocpp/demo/", charger_id="SIM-0001",
                           password="a-long-charger-password", version="2.0.1")
    charger = SimulatedCharger.create(config)
    task = asyncio.create_task(charger.run())
    await charger.wait_until(lambda: charger.online, timeout=10)
    session = await charger.start_session("SIM-TAG-0001")
    await charger.stop_session("Local")
    await charger.stop()

From the shell: `python manage.py simulate --help` or `python -m chargers.simulator --help`.
This package does not import Django.
"""

from chargers.simulator.base import Offline, Session, SimulatedCharger
from chargers.simulator.config import ChargerConfig, charger_ids
from chargers.simulator.events import Event, Reporter, Stats
from chargers.simulator.fleet import Fleet, RateLimiter, fleet_configs

__all__ = [
    "ChargerConfig",
    "Event",
    "Fleet",
    "Offline",
    "RateLimiter",
    "Reporter",
    "Session",
    "SimulatedCharger",
    "Stats",
    "charger_ids",
    "fleet_configs",
]
