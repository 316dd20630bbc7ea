"""E14: a 2.0.1 transaction that ends with gaps in its sequence numbers makes the CSMS ask
GetTransactionStatus, after its answer and as a command of its own, and the reports the
charger still had queued count when they come. While the charger says it holds some and they
have not all come, it is asked again, a bounded number of times."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ocpp.routing import on

from chargers.metering import missing_sequence_numbers
from chargers.models import ChargingSession, Command, CommandStatus, SessionState
from chargers.ocpp import transaction_status
from chargers.services.commands import command_create, command_finish
from chargers.services.sessions import session_event_record
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients201 import TestCharger201, connected201, new_transaction_id
from tests.helpers import eager_tasks


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


class DrainedCharger(TestCharger201):
    """Holds nothing more of the transaction: the numbers missing were skipped."""

    @on("GetTransactionStatus")
    async def on_GetTransactionStatus(self, **payload):
        self.received.append(("GetTransactionStatus", payload))
        return self.results.GetTransactionStatus(messages_in_queue=False, ongoing_indicator=False)


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


async def end_with_gaps(cp, tx):
    await cp.boot()
    await cp.tx("Started", 0, tx, meter=1000)
    await cp.tx("Ended", 3, tx, stopped_reason="Local", offline=True)


def questions(tenant):
    return in_a(
        tenant,
        lambda: list(
            Command.objects.filter(action="GetTransactionStatus").values_list("status", flat=True)
        ),
    )


@pytest.mark.django_db(transaction=True)
async def test_a_charger_that_keeps_saying_it_holds_messages_is_asked_again_but_not_forever(
    ocpp_server_in_process, tenant_a, charger
):
    tx = new_transaction_id()
    with eager_tasks():  # the pauses between questions fall away; the bound stays
        async with connected201(
            ocpp_server_in_process, "tenant-a", "CP-1", charger_class=QueueingCharger
        ) as cp:
            await end_with_gaps(cp, tx)
            await eventually(
                lambda: _answered(tenant_a, transaction_status.MOST_ASKS),
                what="the questions answered",
            )
            # A heartbeat answered after the last answer: anything it set off was on its way.
            await cp.call(cp.calls.Heartbeat())
    assert len(await questions(tenant_a)) == transaction_status.MOST_ASKS
    assert cp.received == [("GetTransactionStatus", {"transaction_id": tx})] * (
        transaction_status.MOST_ASKS
    )


@pytest.mark.django_db(transaction=True)
async def test_a_charger_that_holds_nothing_more_is_asked_once(
    ocpp_server_in_process, tenant_a, charger
):
    tx = new_transaction_id()
    with eager_tasks():
        async with connected201(
            ocpp_server_in_process, "tenant-a", "CP-1", charger_class=DrainedCharger
        ) as cp:
            await end_with_gaps(cp, tx)
            await eventually(lambda: _answered(tenant_a, 1), what="the question answered")
            await cp.call(cp.calls.Heartbeat())
    assert await questions(tenant_a) == [CommandStatus.ANSWERED]


async def _answered(tenant, count):
    return (await questions(tenant)).count(CommandStatus.ANSWERED) >= count


def asked(charger, tx, status, response=None):
    """A question about `tx` with its outcome, as the CSMS records it."""
    command = command_create(
        charger=charger,
        action="GetTransactionStatus",
        payload=transaction_status.question(tx),
        source=transaction_status.SOURCE,
    )
    command_finish(command_id=command.pk, status=status, response=response)
    command.refresh_from_db()
    return command


def reports(charger, tx, *numbers):
    for number in numbers:
        session_event_record(
            charger_id=charger.pk,
            transaction_id=tx,
            event_type="Ended" if number == max(numbers) else "Updated",
            seq_no=number,
            timestamp=datetime.now(UTC),
            trigger_reason="StopAuthorized",
        )


QUEUED = {"messagesInQueue": True}
EMPTY = {"messagesInQueue": False}


@pytest.mark.parametrize(
    ("received", "status", "response", "step"),
    [
        ((0, 3), CommandStatus.ANSWERED, QUEUED, transaction_status.AGAIN),
        ((0, 3), CommandStatus.TIMEOUT, None, transaction_status.AGAIN),
        ((0, 3), CommandStatus.OFFLINE, None, transaction_status.AGAIN),
        # Nothing more queued: the missing numbers were skipped.
        ((0, 3), CommandStatus.ANSWERED, EMPTY, transaction_status.DONE),
        # The charger cannot say: asking again would get the same.
        ((0, 3), CommandStatus.CALL_ERROR, None, transaction_status.DONE),
        ((0, 3), CommandStatus.ANSWERED, {}, transaction_status.DONE),
        # The queued reports came meanwhile.
        ((0, 1, 2, 3), CommandStatus.ANSWERED, QUEUED, transaction_status.DONE),
    ],
)
def test_an_answer_decides_whether_to_ask_again(
    tenant_a, charger, received, status, response, step
):
    with scoping.scope(tenant_a):
        reports(charger, "tx-1", *received)
        assert transaction_status.next_step(asked(charger, "tx-1", status, response))[0] == step


def test_the_pauses_grow_and_the_questions_end_at_the_bound(tenant_a, charger):
    with scoping.scope(tenant_a):
        reports(charger, "tx-1", 0, 3)
        steps = [
            transaction_status.next_step(asked(charger, "tx-1", CommandStatus.ANSWERED, QUEUED))
            for _ in range(transaction_status.MOST_ASKS)
        ]
        # Another transaction's questions count for that one only.
        reports(charger, "tx-2", 0, 2)
        other = transaction_status.next_step(asked(charger, "tx-2", CommandStatus.ANSWERED, QUEUED))
    pauses = [pause for _, pause in steps[:-1]]
    assert pauses == sorted(pauses) and len(set(pauses)) == len(pauses)
    assert steps[-1] == (transaction_status.DONE, 0.0)
    assert other == (transaction_status.AGAIN, pauses[0])
