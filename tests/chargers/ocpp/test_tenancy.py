"""The OCPP door's tenancy: one scope per socket, opened once by the handshake, and no scope
for the tasks of the whole process."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from ocpp.v16 import call

from chargers.models import ChargerBoot, Connector, StatusEvent
from chargers.ocpp import consumer, handshake
from chargers.ocpp.dbwork import in_db
from chargers.services.connections import connection_close
from cpms.models import Tenant
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import PASSWORD, basic, connected

HEADERS = {b"authorization": basic("CP-1", PASSWORD)["Authorization"].encode()}


def handshake_request(slug: str, headers=HEADERS) -> dict:
    return {
        "tenant_slug": slug,
        "identity": "CP-1",
        "offered": ["ocpp1.6"],
        "headers": headers,
        "remote_addr": "192.0.2.1",
        "channel_name": "test.channel!1",
        "node": "test",
    }


@pytest.mark.django_db(transaction=True)
async def test_the_handshake_opens_the_sockets_scope_for_the_consumers_task(tenant_a, make_charger):
    charger = await sync_to_async(make_charger)(tenant_a)
    assert scoping.current_tenant() is None
    opened = await in_db(handshake.open_socket)(**handshake_request("tenant-a"))
    try:
        # The consumer's connect() relies on this: what the door activated on the database
        # thread is this task's scope from now on.
        assert opened.tenant == tenant_a and scoping.current_tenant() is opened.tenant
    finally:
        await in_db(connection_close)(
            charger_id=charger.pk,
            channel_name="test.channel!1",
            connection_event_id=opened.connection_event_id,
            reason="test",
        )


@pytest.mark.django_db(transaction=True)
async def test_a_refused_handshake_opens_no_scope(tenant_a, make_charger):
    await sync_to_async(make_charger)(tenant_a)
    wrong = {b"authorization": basic("CP-1", "not-the-password-0000")["Authorization"].encode()}
    refused = await in_db(handshake.open_socket)(**handshake_request("tenant-a", wrong))
    assert refused == handshake.Refused(401)
    assert scoping.current_tenant() is None and not scoping.is_unscoped()


@pytest.mark.django_db
async def test_the_liveness_writer_runs_in_no_tenants_scope(monkeypatch):
    loop = asyncio.get_running_loop()
    written = asyncio.Event()
    scopes = []

    def touch(*, sockets):
        scopes.append((scoping.current_tenant(), scoping.is_unscoped()))
        loop.call_soon_threadsafe(written.set)

    monkeypatch.setattr(consumer, "chargers_touch", touch)
    monkeypatch.setattr(consumer, "TOUCH_EVERY", 0.01)
    monkeypatch.setattr(consumer, "_heard", {42: "socket-42"})
    monkeypatch.setattr(consumer, "_liveness_writer", None)
    # As the first socket of a process has it: its tenant's scope is active in connect().
    token = scoping.activate(Tenant(pk=7, slug="first"))
    try:
        consumer._ensure_liveness_writer()
    finally:
        scoping.deactivate(token)
    writer = consumer._liveness_writer
    try:
        await asyncio.wait_for(written.wait(), 10)
    finally:
        writer.cancel()
    assert scopes[0] == (None, False)


@pytest.mark.django_db(transaction=True)
async def test_chargers_of_two_tenants_on_one_server_write_in_their_own_tenants(
    ocpp_server, tenant_a, tenant_b, make_charger
):
    # The same identity in both tenants: only the socket's scope tells their rows apart.
    await sync_to_async(make_charger)(tenant_a, identity="CP-1")
    await sync_to_async(make_charger)(tenant_b, identity="CP-1")
    async with (
        connected(ocpp_server, "tenant-a", "CP-1") as a,
        connected(ocpp_server, "tenant-b", "CP-1") as b,
    ):
        await a.boot()
        await b.boot()
        for charger, status in ((a, "Preparing"), (b, "Faulted"), (a, "Charging")):
            await charger.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status=status)
            )

    @sync_to_async
    def seen_by(tenant):
        with scoping.scope(tenant):
            return (
                ChargerBoot.objects.count(),
                StatusEvent.objects.count(),
                list(Connector.objects.values_list("status", flat=True)),
            )

    assert await seen_by(tenant_a) == (1, 2, ["Charging"])
    assert await seen_by(tenant_b) == (1, 1, ["Faulted"])
