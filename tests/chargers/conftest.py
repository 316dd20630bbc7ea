"""Fixtures of the charger domain's tests in more than one package."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chargers import commands
from chargers.models import Charger
from cpms.tenancy import scoping


@pytest.fixture
def listening(tenant_a, charger, monkeypatch):
    """The test's `charger` (tenant A's; each test module says which) is online, and its socket
    is a channel nobody reads, so no command sent to it is answered; and a request (a page, an
    API call) that waited for an answer would fail the test instead of hanging it."""

    async def no_waiting(*args, **kwargs):
        raise AssertionError("a request thread waited for a charger")

    monkeypatch.setattr(commands, "wait_for_outcome", no_waiting)
    socket = async_to_sync(get_channel_layer().new_channel)()
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True, channel_name=socket)
    yield socket
    # Nothing will close this socket: it is no connection a server must let go of.
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=False, channel_name="")
