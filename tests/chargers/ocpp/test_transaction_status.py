"""E14: a 2.0.1 transaction that ends with gaps in its sequence numbers makes the CSMS ask
GetTransactionStatus, after its answer and as a command of its own, and the reports the
charger still had queued count when they come."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.routing import on

from chargers.metering import missing_sequence_numbers
from chargers.models import ChargingSession, Command, CommandStatus, SessionState
from tests.aio import in_a
from tests.chargers.ocpp.clients201 import TestCharger201, connected201, new_transaction_id


def test_the_missing_numbers_are_those_below_the_highest_not_received():
    assert missing_sequence_numbers([0, 1, 2]) == []
    assert missing_sequence_numbers([0, 3, 1]) == [2]
    assert missing_sequence_numbers([4]) == [0, 1, 2, 3]


class QueueingCharger(TestCharger201):
    """Still holds messages of the transaction it is asked about."""

    @on("GetTransactionStatus")
    async def on_GetTransactionStatus(self, **payload):
        self.received.append(("GetTransactionStatus", payload))
        return self.results.GetTransactionStatus(messages_in_queue=True, ongoing_indicator=False)


async def answered_status_command(tenant):
    """The GetTransactionStatus command, once answered (the CSMS sends it on its own)."""
    for _ in range(200):
        command = await in_a(
            tenant,
            lambda: Command.objects.filter(
                action="GetTransactionStatus", status=CommandStatus.ANSWERED
            ).first(),
        )
        if command is not None:
            return command
        await asyncio.sleep(0.05)
    raise AssertionError("the CSMS never asked GetTransactionStatus")


@pytest.mark.django_db(transaction=True)
async def test_an_offline_end_with_gaps_asks_the_status_and_waits_for_the_queue(
    command_server, tenant_a, charger
):
    tx = new_transaction_id()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    async with connected201(
        command_server, "tenant-a", "CP-1", charger_class=QueueingCharger
    ) as cp:
        await cp.boot()
        await cp.tx("Started", 0, tx, timestamp=t0.isoformat(), meter=1000)
        # The end overtakes two reports the charger still has queued; it carries no reading.
        await cp.tx(
            "Ended",
            3,
            tx,
            timestamp=(t0 + timedelta(hours=2)).isoformat(),
            stopped_reason="Local",
            offline=True,
        )
        command = await answered_status_command(tenant_a)
        assert cp.received == [("GetTransactionStatus", {"transaction_id": tx})]
        assert command.payload == {"transactionId": tx}
        assert command.response == {"messagesInQueue": True, "ongoingIndicator": False}
        # The queued reports arrive: the figures follow them rather than staying as closed.
        await cp.tx(
            "Updated",
            1,
            tx,
            trigger="MeterValuePeriodic",
            timestamp=(t0 + timedelta(hours=1)).isoformat(),
            meter=6000,
            offline=True,
        )
        await cp.tx(
            "Updated",
            2,
            tx,
            trigger="MeterValuePeriodic",
            timestamp=(t0 + timedelta(hours=2)).isoformat(),
            meter=9000,
            offline=True,
        )
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert session.state == SessionState.COMPLETED
    assert (session.meter_stop_wh, session.energy_wh) == (Decimal(9000), Decimal(8000))
    assert await in_a(tenant_a, lambda: Command.objects.count()) == 1


@pytest.mark.django_db(transaction=True)
async def test_an_end_without_gaps_asks_nothing(command_server, tenant_a, charger):
    tx = new_transaction_id()
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.tx("Started", 0, tx, meter=1000)
        await cp.tx("Ended", 1, tx, meter=2000, stopped_reason="Local")
        # A heartbeat answered after the end: anything the end set off was on its way before.
        await cp.call(cp.calls.Heartbeat())
    assert cp.received == []
    assert await in_a(tenant_a, lambda: Command.objects.count()) == 0
