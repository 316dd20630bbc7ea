"""Dashboard fixtures."""

import time

import pytest


@pytest.fixture
def finished_outcome():
    """finished_outcome(client, url): a command's outcome as its page reads it
    (`command_outcome`), as soon as the command is finished; the last reading after `within`
    seconds otherwise."""

    def read(client, url, within=30.0) -> dict:
        give_up_at = time.monotonic() + within
        while True:
            body = client.get(url).json()
            if body["finished"] or time.monotonic() > give_up_at:
                return body
            time.sleep(0.05)

    return read
