"""Browser tests: Debian's Chromium driven by Playwright against a real daphne child process.

Run them in their own pytest process (see FIELD-NOTES): `pytest tests/browser/`. Without
/usr/bin/chromium they are skipped locally and fail under CI=true. They run on the embedded
defaults too (the server's dashboards hear its own sockets over the in-memory layer); a test
whose events are published by the test process itself needs the Redis layer and says so.
"""

import asyncio
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

# Tests only, never settings: Playwright's sync API keeps an event loop open in this thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What the page is bound to show, it shows as soon as it can: an assertion waits up to this long
# (a loaded machine is slow, never wrong), and only a failing test waits it out.
expect.set_options(timeout=30_000)


@pytest.fixture(autouse=True)
def browser_parts():
    """Skip where the parts are missing, except under CI=true, which promises them."""
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason and settings.CI:
        pytest.fail(f"CI=true but {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture
def server_url(ocpp_server):
    return ocpp_server.replace("ws://", "http://")


class Loop:
    """An asyncio loop in a thread, for the test charger while Playwright holds this one."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def charger_loop():
    loop = Loop()
    yield loop
    loop.stop()


class Plugs:
    """Test chargers connected to the server from the charger loop and booted; whatever is still
    connected when the test ends is unplugged then."""

    def __init__(self, loop: Loop, server: str):
        self.loop, self.server, self.sockets = loop, server, {}

    def __call__(self, identity: str, tenant: str = "tenant-a", **boot):
        """Connect `identity`, boot it (with `boot`'s fields) and return its client."""
        from tests.chargers.ocpp.clients import connected

        async def plug_in():
            socket = connected(self.server, tenant, identity)
            charger = await socket.__aenter__()
            self.sockets[identity] = socket
            await charger.boot(**boot)
            return charger

        return self.loop.run(plug_in())

    def start_charging(self, charger, id_tag: str, meter_start: int) -> int:
        """Connector 1 of `charger` says Charging, then starts a session; its transaction id."""
        from django.utils import timezone
        from ocpp.v16 import call

        async def start():
            await charger.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1,
                    id_tag=id_tag,
                    meter_start=meter_start,
                    timestamp=timezone.now().isoformat(),
                )
            )
            return started.transaction_id

        return self.loop.run(start())

    def unplug(self, identity: str) -> None:
        self.loop.run(self.sockets.pop(identity).__aexit__(None, None, None))


@pytest.fixture
def plug_in(charger_loop, ocpp_server):
    plugs = Plugs(charger_loop, ocpp_server)
    yield plugs
    for identity in list(plugs.sockets):
        plugs.unplug(identity)


@pytest.fixture
def log_in(page, server_url):
    from tests.factories import PASSWORD

    def login(user, path="/"):
        # The server process keeps Django's default hashers; the tests' fast MD5 is not one.
        hasher = PBKDF2PasswordHasher()
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])
        page.goto(f"{server_url}/accounts/login/?next={path}")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server_url}{path}")
        return page

    return login
