"""The protocol layer's metrics, scraped from the node's /metrics after real chargers talked
to it over a real socket (daphne in its own process; on the embedded defaults the command test
uses the server in this process, and scrapes this process's /metrics)."""

import pytest
from django.conf import settings
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from chargers.commands import asend_command
from chargers.models import CommandStatus
from tests.chargers.ocpp.clients import connected
from tests.chargers.ocpp.metrics import moved, scrape

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_charger_that_talked_shows_in_its_nodes_metrics(ocpp_server, tenant_a, charger):
    before = await scrape(ocpp_server)
    async with connected(ocpp_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(call.Heartbeat())
        await cp.call(call.Heartbeat())
        during = await scrape(ocpp_server)
    assert moved(before, during, "cpms_ocpp_connected_chargers", version="1.6") == 1
    calls = {"direction": "in", "type": "call"}
    assert moved(before, during, "cpms_ocpp_messages_total", **calls, action="Heartbeat") == 2
    assert (
        moved(before, during, "cpms_ocpp_messages_total", **calls, action="BootNotification") == 1
    )
    replies = {"direction": "out", "type": "result", "action": ""}
    assert moved(before, during, "cpms_ocpp_messages_total", **replies) == 3
    assert moved(before, during, "cpms_ocpp_handler_seconds_count", action="Heartbeat") == 2
    assert (
        moved(before, during, "cpms_ocpp_handler_seconds_bucket", action="Heartbeat", le="+Inf")
        == 2
    )


async def test_a_refused_handshake_is_counted_by_its_reason(ocpp_server, tenant_a, charger):
    before = await scrape(ocpp_server)
    with pytest.raises(InvalidStatus):
        async with connected(ocpp_server, "tenant-a", "CP-1", password="not-the-password"):
            pass
    after = await scrape(ocpp_server)
    assert moved(before, after, "cpms_ocpp_handshake_refusals_total", reason="wrong_password") == 1


async def test_a_commands_round_trip_is_timed_with_its_outcome(command_server, tenant_a, charger):
    in_process = not settings.REDIS_URL
    before = await scrape(command_server, in_process=in_process)
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        command = await asend_command(charger, "Reset", {"type": "Soft"}, timeout=10)
    assert command.status == CommandStatus.ANSWERED
    after = await scrape(command_server, in_process=in_process)
    assert (
        moved(
            before,
            after,
            "cpms_ocpp_command_round_trip_seconds_count",
            action="Reset",
            outcome="answered",
        )
        == 1
    )
