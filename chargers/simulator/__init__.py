"""Simulated OCPP chargers (1.6J and 2.0.1) for demos, tests and benchmarks of any CSMS.

From Python:

    config = ChargerConfig(url="ws://127.0.0.1:8000/ocpp/demo/", charger_id="SIM-0001",
                           password="a-long-charger-password", version="2.0.1")
    charger = SimulatedCharger.create(config)
    task = asyncio.create_task(charger.run())
    await charger.wait_until(lambda: charger.online, 10)
    session = await charger.start_session("SIM-TAG-0001", iso15118=True)
    await charger.stop_session("Local")
    await charger.stop()

Besides sessions, a charger sends on request what real chargers send now and then:
`security_event(kind)`, `data_transfer(message_id, data)`, `sign_certificate()`, `fault(code)`,
`go_silent(seconds)`, and on 2.0.1 `limit_locally(watts)` (NotifyChargingLimit; None lifts it:
ClearedChargingLimit). `incident_interval` makes it do those on its own. Every command the CSMS
sends is answered as a real charger would, with the notifications that follow (NotifyReport,
NotifyMonitoringReport, NotifyDisplayMessages, NotifyCustomerInformation,
ReportChargingProfiles, firmware and log statuses, ...); tests/chargers/simulator/test_coverage.py
checks that against the server's own handlers.

A stop (`charger.stop()`, `Fleet.stop()`, the first Ctrl-C of the command line) is clean: every
running session ends with a normal stop, whose answer is awaited (bounded) before the charger
disconnects. How a charger is put together: base.py.

From the shell: `python manage.py simulate --help` or `python -m chargers.simulator --help`.
This package does not import Django.
"""

from chargers.simulator.base import SimulatedCharger
from chargers.simulator.config import ChargerConfig, charger_ids
from chargers.simulator.events import Event, Reporter, Stats
from chargers.simulator.fleet import Fleet, RateLimiter, fleet_configs
from chargers.simulator.state import Offline, Session

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
