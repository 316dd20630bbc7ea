"""Fixtures of the simulator tests: a fake CSMS and chargers running against it."""

import asyncio
import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chargers.simulator import ChargerConfig, SimulatedCharger
from tests.simulator.fake_csms import PASSWORD, FakeCsms

# Short timings everywhere, so a test sees a whole session, a reconnect or a reboot in well
# under a second; every wait in the tests is bounded as well.
FAST = {
    "connectors": 2,
    "meter_interval": 60.0,
    "session_interval": 0.0,
    "response_timeout": 2.0,
    "open_timeout": 2.0,
    "reconnect_min": 0.05,
    "reconnect_max": 0.2,
    "reboot_seconds": 0.05,
    "firmware_step_seconds": 0.05,
    "message_retry_interval": 0.05,
    "boot_retry_seconds": 0.2,
    "ping_interval": None,
    "seed": 1,
}


@pytest.fixture
async def csms():
    async with FakeCsms() as server:
        yield server


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


@pytest.fixture
def make_charger(csms):
    def make(version="1.6", charger_id="SIM-0001", **overrides):
        return new_charger(csms, version, charger_id, **overrides)

    return make


@contextlib.asynccontextmanager
async def running(charger: SimulatedCharger, *, online: bool = True):
    """Run the charger for the duration of the block; wait until it is online first."""
    task = asyncio.create_task(charger.run())
    try:
        if online:
            assert await charger.wait_until(lambda: charger.online, 5), "never came online"
        yield charger
    finally:
        await charger.stop(within=2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@pytest.fixture
def upload_server():
    """An HTTP server on 127.0.0.1 that keeps what is POSTed to it: (url, received list)."""
    received = []

    class Upload(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"name": self.headers["X-Filename"], "body": body})
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upload)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/uploads", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
