"""Dashboard fixtures."""

import pytest
from asgiref.sync import sync_to_async

from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.factories import make_fleet


@pytest.fixture
def fleet(tenant_a, site_a):
    """make_fleet's rows at tenant A's site: a charger, its connector, a session, an alert."""
    with scoping.scope(tenant_a):
        return make_fleet(site_a)


@pytest.fixture
def finished_outcome():
    """await finished_outcome(client, url): a command's outcome as its page reads it
    (`command_outcome`), as soon as the command is finished."""

    async def read(client, url) -> dict:
        get = sync_to_async(client.get)

        async def finished():
            body = (await get(url)).json()
            return body if body["finished"] else None

        return await eventually(finished, what=f"{url} finished")

    return read
