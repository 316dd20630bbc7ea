"""Fixtures of the simulator tests: a fake CSMS, chargers for it and an upload server.

The real server (`ocpp_server`, `command_server`) comes from tests/chargers/ocpp/fixtures.py."""

from http.server import BaseHTTPRequestHandler

import pytest

from tests.chargers.simulator.fake_csms import FakeCsms
from tests.chargers.simulator.helpers import new_charger
from tests.helpers import http_server


@pytest.fixture
async def csms():
    async with FakeCsms() as server:
        yield server


@pytest.fixture
def make_charger(csms):
    """Simulated chargers for `csms` (this overrides the database `make_charger` of
    tests/chargers/ocpp/fixtures.py for the simulator's tests)."""

    def make(version="1.6", charger_id="SIM-0001", **overrides):
        return new_charger(csms, version, charger_id, **overrides)

    return make


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

    with http_server(Upload) as address:
        yield f"{address}/uploads", received
