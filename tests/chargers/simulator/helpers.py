"""Helpers of the simulator tests: fast timings, a charger for a fake CSMS, a running charger."""

import asyncio
import contextlib

from chargers.simulator import ChargerConfig, SimulatedCharger
from tests.chargers.simulator.fake_csms import PASSWORD, PATIENCE

# Short intervals for what a charger does on its own (reconnects, reboots, retries, firmware
# steps), so a test sees a whole session, a reconnect or a reboot in well under a second; but
# patient deadlines for what the charger waits for (an answer, a handshake), which return as
# soon as it comes: a slow or busy machine makes a test slower, never fail.
FAST = {
    "connectors": 2,
    "meter_interval": 60.0,
    "session_interval": 0.0,
    "response_timeout": PATIENCE,
    "open_timeout": PATIENCE,
    "reconnect_min": 0.05,
    "reconnect_max": 0.2,
    "reboot_seconds": 0.05,
    "firmware_step_seconds": 0.05,
    "message_retry_interval": 0.05,
    "boot_retry_seconds": 0.2,
    "ping_interval": None,
    "seed": 1,
}


def new_charger(csms, version="1.6", charger_id="SIM-0001", **overrides) -> SimulatedCharger:
    """A charger for `csms` with the fast test timings, the CSMS's password and `overrides`."""
    config = ChargerConfig(
        url=csms.url,
        charger_id=charger_id,
        password=overrides.pop("password", PASSWORD),
        version=version,
        **{**FAST, **overrides},
    )
    return SimulatedCharger.create(config)


@contextlib.asynccontextmanager
async def running(charger: SimulatedCharger, *, online: bool = True):
    """Run the charger for the duration of the block; wait until it is online first.

    At the end it stops cleanly: its sessions end and what it queued is delivered (a stop
    returns as soon as that is done; PATIENCE only bounds a charger that hangs)."""
    task = asyncio.create_task(charger.run())
    try:
        if online:
            assert await charger.wait_until(lambda: charger.online, PATIENCE), "never came online"
        yield charger
    finally:
        await charger.stop(within=PATIENCE)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, PATIENCE)
