"""The RPC layer on its own, over a socket that records what it is sent: no server, no
database. The end-to-end tests (test_v16_frames.py, test_v16_commands.py) cover the rest."""

import asyncio
import json
import logging
import uuid

import pytest

from chargers.ocpp.errors import CallErrorReply, CallRefused, CallReplyInvalid, Disconnected
from chargers.ocpp.rpc import Endpoint, handles

NOW = "2030-01-01T00:00:00Z"


class Socket:
    closing = False

    def __init__(self):
        self.sent: list[list] = []
        self.logged: list[tuple] = []

    async def send(self, text_data=None):
        self.sent.append(json.loads(text_data))

    def log_frame(self, incoming, raw, message_type, unique_id, action, payload=None):
        self.logged.append((incoming, message_type, unique_id, action))


class Central16(Endpoint):
    version = "1.6"

    @handles("Heartbeat")
    async def heartbeat(self, payload):
        return {"currentTime": NOW}

    @handles("Authorize")
    async def authorize(self, payload):
        raise CallRefused("property", f"{payload['idTag']} is not a tag we take")

    @handles("DataTransfer")
    async def data_transfer(self, payload):
        raise RuntimeError("a bug of ours")


class Central201(Central16):
    version = "2.0.1"

    @handles("Heartbeat")
    async def beat(self, payload):
        return {"currentTime": "2031-01-01T00:00:00Z"}


async def settle():
    """Let every task that can run, run: a send or a reply that is due has happened after
    this, however fast the machine (the fake socket never waits)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def until(predicate, timeout=10.0):
    """Wait until `predicate()` holds, as long as it takes up to a generous limit."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.001)


@pytest.fixture
def socket():
    return Socket()


async def test_a_call_reaches_its_handler_and_the_reply_goes_back_with_its_id(socket):
    await Central16(socket).receive('[2,"m1","Heartbeat",{}]')
    assert socket.sent == [[3, "m1", {"currentTime": NOW}]]
    assert socket.logged == [(True, 2, "m1", "Heartbeat"), (False, 3, "m1", None)]


async def test_a_subclass_handler_replaces_its_bases_and_inherits_the_rest():
    assert Central201.handlers["Heartbeat"] is Central201.beat
    assert Central201.handlers["Authorize"] is Central16.authorize
    assert Central16.known_actions != Central201.known_actions


@pytest.mark.parametrize(
    "central,frame,code",
    [
        (Central16, '[2,"m2","MakeCoffee",{}]', "NotImplemented"),
        (Central16, '[2,"m2","Reset",{"type":"Hard"}]', "NotSupported"),
        (Central16, '[2,"m2","Authorize",{"idTag":"X"}]', "PropertyConstraintViolation"),
        (Central16, '[2,"m2","DataTransfer",{"vendorId":"v"}]', "InternalError"),
        (Central16, '[2,"m2","Heartbeat",{"x":1}]', "FormationViolation"),
        (Central201, '[2,"m2","Heartbeat",{"x":1}]', "FormatViolation"),
        (Central201, "[2,", "RpcFrameworkError"),
    ],
)
async def test_what_gets_no_reply_gets_the_versions_callerror(socket, central, frame, code):
    await central(socket).receive(frame)
    [(message_type, unique_id, sent_code, description, details)] = socket.sent
    assert (message_type, sent_code, details) == (4, code, {})
    assert unique_id == ("-1" if frame == "[2," else "m2")
    if code == "InternalError":
        assert "bug" not in description  # nothing of ours leaks to the charger


async def test_a_chargers_mistake_is_logged_in_one_line_and_our_own_with_its_traceback(
    socket, caplog
):
    caplog.set_level(logging.INFO, logger="chargers.ocpp.rpc")
    central = Central16(socket)
    await central.receive('[2,"m3","Authorize",{"idTag":"X"}]')
    [mistake] = caplog.records
    assert (mistake.levelno, mistake.exc_info) == (logging.INFO, None)
    assert mistake.getMessage() == (
        "Central16 message m3 answered PropertyConstraintViolation: X is not a tag we take"
    )
    caplog.clear()
    await central.receive('[2,"m4","DataTransfer",{"vendorId":"v"}]')
    ours = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(ours) == 1 and ours[0].exc_info is not None


async def test_a_call_waits_for_the_reply_with_its_own_id(socket):
    central = Central16(socket)
    calling = asyncio.create_task(central.call("Reset", {"type": "Soft"}))
    await until(lambda: socket.sent)
    [(message_type, unique_id, action, payload)] = socket.sent
    assert (message_type, action, payload) == (2, "Reset", {"type": "Soft"})
    assert uuid.UUID(unique_id).version == 4
    await central.receive('[3,"someone-else",{"status":"Rejected"}]')
    await settle()
    assert not calling.done()
    await central.receive(json.dumps([3, unique_id, {"status": "Accepted"}]))
    assert await calling == {"status": "Accepted"}
    assert (True, 3, unique_id, "Reset") in socket.logged


async def test_a_charger_gets_one_call_at_a_time(socket):
    central = Central16(socket)
    first = asyncio.create_task(central.call("ClearCache", {}))
    second = asyncio.create_task(central.call("ClearCache", {}))
    await until(lambda: socket.sent)
    await settle()
    assert len(socket.sent) == 1
    await central.receive(json.dumps([3, socket.sent[0][1], {"status": "Accepted"}]))
    await until(lambda: len(socket.sent) == 2)
    await central.receive(json.dumps([3, socket.sent[1][1], {"status": "Rejected"}]))
    assert (await first, await second) == ({"status": "Accepted"}, {"status": "Rejected"})
    assert socket.sent[0][1] != socket.sent[1][1]


async def test_a_call_nobody_answers_times_out_and_its_late_reply_is_dropped(socket):
    central = Central16(socket)
    with pytest.raises(TimeoutError, match="No reply to ClearCache within 0.05 s"):
        await central.call("ClearCache", {}, wait_seconds=0.05)
    await central.receive(json.dumps([3, socket.sent[0][1], {"status": "Accepted"}]))
    calling = asyncio.create_task(central.call("ClearCache", {}))
    await until(lambda: len(socket.sent) == 2)
    await central.receive(json.dumps([3, socket.sent[1][1], {"status": "Rejected"}]))
    assert await calling == {"status": "Rejected"}


async def test_a_closed_socket_fails_the_calls_waiting_but_not_one_answered(socket):
    central = Central16(socket)
    answered = asyncio.create_task(central.call("ClearCache", {}))
    waiting = asyncio.create_task(central.call("Reset", {"type": "Soft"}))
    queued = asyncio.create_task(central.call("ClearCache", {}))
    await until(lambda: socket.sent)
    await central.receive(json.dumps([3, socket.sent[0][1], {"status": "Accepted"}]))
    await until(lambda: len(socket.sent) == 2)
    central.connection_lost()  # the answer to the first came in before the close
    assert await answered == {"status": "Accepted"}
    with pytest.raises(Disconnected, match="before answering"):
        await waiting
    with pytest.raises(Disconnected, match="before the command was sent"):
        await queued
    assert len(socket.sent) == 2


async def test_a_callerror_reply_raises_with_the_chargers_words(socket):
    central = Central16(socket)
    calling = asyncio.create_task(central.call("Reset", {"type": "Hard"}))
    await until(lambda: socket.sent)
    await central.receive(json.dumps([4, socket.sent[0][1], "GenericError", "busy", {"n": 1}]))
    with pytest.raises(CallErrorReply) as raised:
        await calling
    assert (raised.value.code, raised.value.description, raised.value.details) == (
        "GenericError",
        "busy",
        {"n": 1},
    )


async def test_a_reply_that_breaks_the_response_schema_is_flagged_with_its_payload(socket):
    central = Central16(socket)
    calling = asyncio.create_task(central.call("Reset", {"type": "Hard"}))
    await until(lambda: socket.sent)
    await central.receive(json.dumps([3, socket.sent[0][1], {"status": "Maybe"}]))
    with pytest.raises(CallReplyInvalid) as raised:
        await calling
    assert raised.value.payload == {"status": "Maybe"} and "status" in raised.value.problem


@pytest.mark.parametrize(
    "action,payload,message",
    [
        ("Reset", {"type": "Sideways"}, "Reset payload invalid for OCPP 1.6: type"),
        ("RequestStartTransaction", {}, "not an OCPP 1.6 action"),
    ],
)
async def test_a_call_the_version_does_not_allow_is_refused_before_sending(
    socket, action, payload, message
):
    with pytest.raises(ValueError, match=message):
        await Central16(socket).call(action, payload)
    assert socket.sent == []
