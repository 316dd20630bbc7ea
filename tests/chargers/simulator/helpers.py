"""Helpers of the tests that run simulated chargers: fast timings, a charger for a fake CSMS
or for the real server, the chargers the server knows, a running charger."""

import asyncio
import contextlib
import time

from chargers.models import Charger
from chargers.services.chargers import charger_set_password
from chargers.simulator import ChargerConfig, SimulatedCharger
from cpms.tenancy import scoping
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


def simulated(server: str, identity: str, version: str, **overrides) -> SimulatedCharger:
    """A charger of tenant-a (`register` it first) for the OCPP server at `server`, with the fast
    test timings and `overrides`."""
    config = ChargerConfig(
        url=f"{server}/ocpp/tenant-a/",
        charger_id=identity,
        password=PASSWORD,
        version=version,
        **{**FAST, **overrides},
    )
    return SimulatedCharger.create(config)


def register(tenant, *identities: str, **fields) -> list[Charger]:
    """Chargers the server knows, with the password the simulated ones log in with."""
    chargers = []
    with scoping.scope(tenant):
        for identity in identities:
            charger = Charger.objects.create(identity=identity, **fields)
            charger_set_password(charger=charger, password=PASSWORD)
            chargers.append(charger)
    return chargers


def wait_until_offline(tenant) -> None:
    """After a test: the server finishes a closed socket's bookkeeping after the charger has
    gone; wait for it (bounded), so that the database is flushed with no socket writing."""
    deadline = time.monotonic() + PATIENCE
    with scoping.scope(tenant):
        online = Charger.objects.filter(is_online=True)
        while online.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


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


@contextlib.asynccontextmanager
async def fleet(*chargers: SimulatedCharger):
    """Run several chargers for the duration of the block, each online before the next starts;
    they stop in the reverse order (see `running`)."""
    async with contextlib.AsyncExitStack() as stack:
        for charger in chargers:
            await stack.enter_async_context(running(charger))
        yield chargers
