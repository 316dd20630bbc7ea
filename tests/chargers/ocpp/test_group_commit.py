"""Group commit: the database work of messages that wait while a group is written goes in the
next group, one transaction; each is answered after its commit; a failure stays its own
message's, and nothing of the others is lost or stored twice."""

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from chargers.metering import Sample
from chargers.models import ChargerEvent, EventKind, MeterSample, OcppMessage
from chargers.ocpp import group_commit as group_commit_module
from chargers.ocpp.group_commit import group_commit, write_group
from chargers.services.reports import charger_event_record
from chargers.services.sessions import meter_values_record
from cpms.tenancy import rows, scoping
from tests.aio import PATIENCE, eventually, in_a

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="transaction ids are PostgreSQL's"
)


def log_row(charger, unique_id: str) -> dict:
    return {
        "tenant_id": charger.tenant_id,
        "charger_id": charger.pk,
        "at": timezone.now(),
        "incoming": True,
        "message_type": 2,
        "unique_id": unique_id,
        "action": "Heartbeat",
        "body": f'[2,"{unique_id}","Heartbeat",{{}}]',
    }


def transaction_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        return cursor.fetchone()[0]


def submit(tenant, function, log_rows=(), charger_id=None) -> asyncio.Task:
    """A message's work, submitted from a socket in `tenant`'s scope (the task copies it)."""
    token = scoping.activate(tenant)
    try:
        return asyncio.ensure_future(group_commit().run(function, list(log_rows), charger_id))
    finally:
        scoping.deactivate(token)


async def behind_a_gate(tenant, charger, *works):
    """Submit `works` while the one writer is busy with a first message, so that they make up
    the next group; their tasks, and the first message's transaction id."""
    gate = threading.Event()
    first_work_running = threading.Event()

    def first():
        first_work_running.set()
        gate.wait(30)
        return transaction_id()

    first_task = submit(tenant, first, [log_row(charger, "first")])
    await eventually(lambda: asyncio.sleep(0, first_work_running.is_set()), what="the first group")
    tasks = [submit(*work) for work in works]
    await asyncio.sleep(0)  # each task queues its work and waits for its future
    gate.set()
    return tasks, await first_task


@pytest.fixture
def one_writer(settings):
    settings.OCPP_GROUP_WRITERS = 1


def event(charger, summary):
    def write():
        return charger_event_record(
            charger_id=charger.pk, kind=EventKind.DATA_TRANSFER, summary=summary
        ).pk

    return write


def stored(tenant, **where):
    return in_a(tenant, lambda: ChargerEvent.objects.filter(**where).count())


def logged(tenant, unique_id):
    return in_a(tenant, lambda: OcppMessage.objects.filter(unique_id=unique_id).count())


@pytest.mark.django_db(transaction=True)
async def test_messages_waiting_for_a_writer_are_written_in_one_transaction(
    one_writer, tenant_a, make_charger
):
    charger = await sync_to_async(make_charger)(tenant_a)
    (second, third), first_id = await behind_a_gate(
        tenant_a,
        charger,
        (tenant_a, transaction_id, [log_row(charger, "second")]),
        (tenant_a, transaction_id, [log_row(charger, "third")]),
    )
    second_id, third_id = await second, await third
    assert second_id == third_id != first_id
    for unique_id in ("first", "second", "third"):
        assert await logged(tenant_a, unique_id) == 1


@pytest.mark.django_db(transaction=True)
async def test_a_failing_message_fails_alone_and_the_rest_of_its_group_is_stored_once(
    one_writer, tenant_a, make_charger
):
    charger = await sync_to_async(make_charger)(tenant_a)

    def broken():
        charger_event_record(charger_id=charger.pk, kind=EventKind.DATA_TRANSFER, summary="no")
        raise ValueError("not this one")

    (before, failing, after), _ = await behind_a_gate(
        tenant_a,
        charger,
        (tenant_a, event(charger, "before"), [log_row(charger, "before")]),
        (tenant_a, broken, [log_row(charger, "failing")]),
        (tenant_a, event(charger, "after"), [log_row(charger, "after")]),
    )
    assert await before and await after
    with pytest.raises(ValueError, match="not this one"):
        await failing
    assert await stored(tenant_a, summary="before") == 1
    assert await stored(tenant_a, summary="after") == 1
    assert await stored(tenant_a, summary="no") == 0
    # The frames were received all the same: each logged once, the failing one's too.
    for unique_id in ("before", "failing", "after"):
        assert await logged(tenant_a, unique_id) == 1


@pytest.mark.django_db(transaction=True)
async def test_a_database_error_a_service_swallows_does_not_roll_back_its_group(
    one_writer, tenant_a, make_charger
):
    """Without a savepoint, a failed statement aborts the whole transaction, and its COMMIT
    would roll back the group's other messages after they were answered."""
    charger = await sync_to_async(make_charger)(tenant_a)

    def swallows():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        except DatabaseError:
            pass
        return "swallowed"

    (before, swallowing), _ = await behind_a_gate(
        tenant_a,
        charger,
        (tenant_a, event(charger, "before"), []),
        (tenant_a, swallows, []),
    )
    assert await before and await swallowing == "swallowed"
    assert await stored(tenant_a, summary="before") == 1


@pytest.mark.django_db(transaction=True)
async def test_each_message_and_its_after_commit_work_run_in_its_own_sockets_scope(
    one_writer, tenant_a, tenant_b, make_charger
):
    charger_a = await sync_to_async(make_charger)(tenant_a)
    await sync_to_async(make_charger)(tenant_b)
    after_commit = []

    def work():
        seen = scoping.current_tenant()
        transaction.on_commit(lambda: after_commit.append((seen, scoping.current_tenant())))
        return seen

    (a, b), _ = await behind_a_gate(tenant_a, charger_a, (tenant_a, work, []), (tenant_b, work, []))
    assert (await a, await b) == (tenant_a, tenant_b)
    assert after_commit == [(tenant_a, tenant_a), (tenant_b, tenant_b)]


@pytest.mark.django_db(transaction=True)
async def test_a_message_that_finds_a_writer_free_is_written_at_once_alone(tenant_a, make_charger):
    charger = await sync_to_async(make_charger)(tenant_a)
    first = await submit(tenant_a, transaction_id, [log_row(charger, "one")])
    second = await submit(tenant_a, transaction_id, [log_row(charger, "two")])
    assert first != second
    assert await logged(tenant_a, "one") == await logged(tenant_a, "two") == 1


@pytest.mark.django_db(transaction=True)
async def test_a_group_whose_trip_fails_is_told_and_the_messages_behind_it_are_still_written(
    one_writer, tenant_a, make_charger, monkeypatch
):
    charger = await sync_to_async(make_charger)(tenant_a)
    first_trip, gate = threading.Event(), threading.Event()
    trips = []

    def failing_once(group):
        trips.append(len(group))
        if len(trips) == 1:
            first_trip.set()
            gate.wait(30)
            raise RuntimeError("no database thread")
        return write_group(group)

    monkeypatch.setattr(group_commit_module, "write_group", failing_once)
    first = submit(tenant_a, transaction_id, [log_row(charger, "first")])
    await eventually(lambda: asyncio.sleep(0, first_trip.is_set()), what="the first trip")
    behind = submit(tenant_a, transaction_id, [log_row(charger, "behind")])
    await asyncio.sleep(0)  # queued behind the failing trip
    gate.set()
    with pytest.raises(RuntimeError, match="no database thread"):
        await first
    # PATIENCE only bounds a writer that died with the failed trip (then it would hang).
    assert await asyncio.wait_for(behind, PATIENCE)
    assert await logged(tenant_a, "behind") == 1


def meter_values(charger, *readings):
    def write():
        meter_values_record(
            charger_id=charger.pk,
            evse_id=1,
            transaction_id=None,
            samples=[
                Sample(
                    datetime(2026, 12, 7, 8, minute, tzinfo=UTC),
                    "Power.Active.Import",
                    Decimal(value),
                )
                for minute, value in readings
            ],
            payload={},
        )

    return write


def samples_of(charger):
    return lambda: MeterSample.objects.filter(charger=charger).count()


@pytest.mark.django_db(transaction=True)
async def test_a_groups_samples_go_in_one_insert_before_its_commit(
    one_writer, tenant_a, tenant_b, make_charger, monkeypatch
):
    charger_a = await sync_to_async(make_charger)(tenant_a)
    charger_b = await sync_to_async(make_charger)(tenant_b)
    inserts = []
    insert_rows = rows.insert_rows

    def counted(model, written, **options):
        inserts.append((model, len(written)))
        return insert_rows(model, written, **options)

    monkeypatch.setattr(rows, "insert_rows", counted)
    (a, b), _ = await behind_a_gate(
        tenant_a,
        charger_a,
        (tenant_a, meter_values(charger_a, (0, 1), (1, 2)), [], charger_a.pk),
        (tenant_b, meter_values(charger_b, (0, 3), (1, 4), (2, 5)), [], charger_b.pk),
    )
    await a, await b
    assert [n for model, n in inserts if model is MeterSample] == [5]
    assert await in_a(tenant_a, samples_of(charger_a)) == 2
    assert await in_a(tenant_b, samples_of(charger_b)) == 3


@pytest.mark.django_db(transaction=True)
async def test_a_second_socket_of_a_charger_in_the_group_reads_what_the_first_wrote(
    one_writer, tenant_a, make_charger
):
    """A charger that reconnects while its old socket's message waits: the new socket's work
    comes after the old one's in the same group, and must find its samples written."""
    charger = await sync_to_async(make_charger)(tenant_a)
    (old, new), _ = await behind_a_gate(
        tenant_a,
        charger,
        (tenant_a, meter_values(charger, (0, 7)), [], charger.pk),
        (tenant_a, samples_of(charger), [], charger.pk),
    )
    await old
    assert await new == 1
