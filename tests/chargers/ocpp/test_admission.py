"""Admission control: past the bound on handshakes in progress, a charger is told to come back
(503 and Retry-After) before any database work, and gets in once there is room."""

import asyncio
import threading

import pytest
import websockets
from asgiref.sync import sync_to_async

from chargers.models import Charger, HandshakeRefusal
from chargers.ocpp import admission, handshake
from chargers.services.connections import connection_open
from chargers.simulator.connection import retry_after
from cpms.channel_layer import RedisChannelLayer
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.ocpp.clients import PASSWORD, basic, connected
from tests.chargers.ocpp.metrics import moved, scrape
from tests.chargers.simulator.helpers import register, running, simulated
from tests.helpers import own_redis, setting_in_a_process

pytestmark = pytest.mark.django_db(transaction=True)
HELD = "CP-HELD"


@pytest.fixture
def held_handshake(monkeypatch):
    """The handshake of charger CP-HELD stays in progress (its database work waits) until the
    event is set."""
    release = threading.Event()
    open_socket = handshake.open_socket

    def slow_open_socket(**kwargs):
        if kwargs["identity"] == HELD:
            release.wait(60)
        return open_socket(**kwargs)

    monkeypatch.setattr(handshake, "open_socket", slow_open_socket)
    yield release
    release.set()


@pytest.fixture
def bound_of_one(settings):
    settings.OCPP_MAX_HANDSHAKES_IN_PROGRESS = 1
    settings.OCPP_ADMISSION_RETRY_AFTER = 1


async def refused(server: str, identity: str):
    url = f"{server}/ocpp/tenant-a/{identity}"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
        async with websockets.connect(
            url,
            subprotocols=["ocpp1.6"],
            additional_headers=basic(identity, PASSWORD),
            open_timeout=10,
        ):
            pass
    return refusal.value.response


async def a_handshake_in_progress() -> bool:
    return admission.handshakes.in_progress == 1


async def booted(server: str, identity: str) -> str:
    """Connect (however long the handshake takes) and boot: the answer's status."""
    async with connected(server, "tenant-a", identity) as charger:
        return (await charger.boot()).status


async def test_past_the_bound_a_charger_is_told_to_retry_and_gets_in_after(
    ocpp_server_in_process, tenant_a, make_charger, bound_of_one, held_handshake
):
    for identity in (HELD, "CP-1"):
        await sync_to_async(make_charger)(tenant_a, identity)
    before = await scrape(ocpp_server_in_process, in_process=True)
    first = asyncio.create_task(booted(ocpp_server_in_process, HELD))
    try:
        await eventually(a_handshake_in_progress, what="the first handshake in progress")

        response = await refused(ocpp_server_in_process, "CP-1")

        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) in {1, 2}
    finally:
        held_handshake.set()
    assert await first == "Accepted"
    # Scraped once the held handshake is let go: on the embedded defaults it holds the one
    # thread the metrics page needs too.
    after = await scrape(ocpp_server_in_process, in_process=True)
    assert moved(before, after, "cpms_ocpp_admission_refusals_total") == 1
    assert await booted(ocpp_server_in_process, "CP-1") == "Accepted"
    assert not await sync_to_async(refusal_rows)()


def refusal_rows() -> int:
    with scoping.unscoped():
        return HandshakeRefusal.objects.count()


async def test_the_simulator_waits_as_a_busy_server_asks_and_connects_after(
    ocpp_server_in_process, tenant_a, make_charger, bound_of_one, held_handshake
):
    await sync_to_async(make_charger)(tenant_a, HELD)
    await sync_to_async(register)(tenant_a, "SIM-0001")
    first = asyncio.create_task(booted(ocpp_server_in_process, HELD))
    charger = simulated(ocpp_server_in_process, "SIM-0001", "1.6")

    async def told_busy() -> bool:
        return any(event.kind == "busy" for event in charger.events)

    try:
        await eventually(a_handshake_in_progress, what="the first handshake in progress")
        async with running(charger, online=False):
            await eventually(told_busy, what="the simulator told the server is busy")
            held_handshake.set()
            assert await charger.wait_until(lambda: charger.online, 30), "never came online"
    finally:
        held_handshake.set()
    assert await first == "Accepted"
    assert not any(event.kind == "refused" for event in charger.events)


def left_open_on_a_lost_node(tenant, identity: str, channel: str) -> None:
    """The charger's socket as a node that died recorded it: open, on `channel`."""
    with scoping.scope(tenant):
        charger = Charger.objects.get(identity=identity)
        connection_open(
            charger_id=charger.pk, channel_name=channel, node="lost", remote_addr="", version="1.6"
        )


def nobody_online(tenant) -> bool:
    with scoping.scope(tenant):
        return not Charger.objects.filter(is_online=True).exists()


async def test_a_fleet_reconnecting_at_once_fences_every_old_socket_through_a_small_pool(
    ocpp_server_in_process, tenant_a, make_charger, settings
):
    # Each admission tells its charger's previous socket to close, all at once, through a
    # channel layer with far fewer connections than handshakes in progress.
    fleet = [f"CP-{n}" for n in range(30)]
    with own_redis() as (_, url):
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "cpms.channel_layer.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": url, "max_connections": 2}]},
            }
        }
        lost_node = RedisChannelLayer(hosts=[url])
        old_sockets = [await lost_node.new_channel() for _ in fleet]
        for identity, channel in zip(fleet, old_sockets, strict=True):
            await sync_to_async(make_charger)(tenant_a, identity)
            await sync_to_async(left_open_on_a_lost_node)(tenant_a, identity, channel)

        statuses = await asyncio.gather(
            *(booted(ocpp_server_in_process, identity) for identity in fleet)
        )
        fences = [await lost_node.receive(channel) for channel in old_sockets]
        await lost_node.flush()
        # The server's sockets finish their closing while their Redis still answers.
        await eventually(lambda: sync_to_async(nobody_online)(tenant_a), what="all closed")
    assert statuses == ["Accepted"] * len(fleet)
    assert fences == [{"type": "ocpp.replaced"}] * len(fleet)


@pytest.mark.parametrize(
    "status,header,wait",
    [(503, "3", 3.0), (503, "0", 0.0), (503, "100000", 300.0), (503, None, None),
     (503, "Wed, 21 Oct 2026 07:28:00 GMT", None), (401, "3", None)],
)  # fmt: skip
def test_only_a_busy_answer_with_seconds_is_waited_out(status, header, wait):
    assert retry_after(status, header) == wait


def bound_in_a_process(**env) -> str:
    return setting_in_a_process("OCPP_MAX_HANDSHAKES_IN_PROGRESS", **env)


def test_the_bound_is_the_process_s_not_the_database_threads_unless_set():
    # The process's event loop, not its database threads, sets how fast handshakes go.
    assert bound_in_a_process(OCPP_DB_THREADS="4") == "50"
    assert bound_in_a_process(OCPP_DB_THREADS="16") == "50"
    assert bound_in_a_process(OCPP_DB_THREADS="8", OCPP_MAX_HANDSHAKES_IN_PROGRESS="80") == "80"


async def test_past_the_bound_the_door_refuses_before_a_consumer_is_built(
    bound_of_one, monkeypatch
):
    built, sent = [], []

    async def consumer(scope, receive, send):
        built.append(scope)

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    door = admission.Door(consumer)
    scope = {"type": "websocket", "extensions": {"websocket.http.response": {}}}
    await door(scope, receive, send)
    assert len(built) == 1 and not sent  # room: the consumer decides

    monkeypatch.setattr(admission.handshakes, "in_progress", 1)
    await door(scope, receive, send)
    assert len(built) == 1
    start, body = sent
    assert start["status"] == 503 and int(dict(start["headers"])[b"retry-after"]) in {1, 2}
    assert body == {"type": "websocket.http.response.body", "body": b"", "more_body": False}

    # A server that cannot send a denial gets the consumer, which closes (daphne's 403).
    await door({"type": "websocket"}, receive, send)
    assert len(built) == 2
