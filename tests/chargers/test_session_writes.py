"""The writes of a fleet's commonest messages inside a socket's transaction (sessions 1.6 and
2.0.1, connector statuses): one transaction, no savepoints (each costs two round trips on every
message), and a resend, also one racing on a second socket of the same charger, still finds its
session and counts nothing twice; the newest status wins."""

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from chargers.events import SessionUpdated
from chargers.metering import Sample
from chargers.models import (
    ChargingSession,
    Connector,
    MeterSample,
    OcppMessage,
    SessionState,
    StatusEvent,
    TransactionEventRecord,
)
from chargers.services.reports import connector_status_record
from chargers.services.sessions import (
    meter_values_record,
    session_event_record,
    session_start,
    session_stop,
)
from cpms.events import captured
from cpms.tenancy import scoping
from tests.aio import in_a
from tests.chargers.factories import make_fleet
from tests.chargers.ocpp.clients201 import connected201, new_transaction_id

pytestmark = pytest.mark.django_db(transaction=True)
STARTED = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def charger(tenant_a, site_a, in_scope):
    with in_scope(tenant_a):
        return make_fleet(site_a)["charger"]


def a_start(charger) -> dict:
    """A StartTransaction's arguments for `session_start`."""
    return {
        "charger_id": charger.pk,
        "connector_id": 2,
        "id_tag": "CARD-1",
        "meter_start": 100,
        "timestamp": STARTED,
    }


def _savepoints(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_a_whole_session_is_written_without_a_savepoint(tenant_a, charger, in_scope):
    with in_scope(tenant_a), CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            started = session_start(**a_start(charger))
        transaction_id = started.session.transaction_id
        with transaction.atomic():
            meter_values_record(
                charger_id=charger.pk,
                evse_id=2,
                transaction_id=transaction_id,
                samples=[Sample(STARTED, "Energy.Active.Import.Register", Decimal(600), "Wh")],
                payload={},
            )
        with transaction.atomic():
            session_stop(
                charger_id=charger.pk,
                transaction_id=transaction_id,
                meter_stop=Decimal(900),
                timestamp=STARTED.replace(hour=9),
            )

    assert _savepoints(queries) == []
    with in_scope(tenant_a):
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert (session.state, session.energy_wh) == (SessionState.COMPLETED, Decimal(800))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no sequence to ask")
def test_a_started_session_is_written_once_with_its_transaction_id(tenant_a, charger, in_scope):
    """The id comes from the table's sequence first: an UPDATE after the INSERT wrote a second
    version of the row and of every one of its indexes."""
    with in_scope(tenant_a), CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            started = session_start(**a_start(charger))
    table = ChargingSession._meta.db_table
    assert not [q for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{table}"')]
    assert started.session.transaction_id == str(started.session.pk)
    with in_scope(tenant_a):
        stored = ChargingSession.objects.get(pk=started.session.pk)
    assert stored.transaction_id == str(stored.pk)


def test_a_resent_start_gets_the_same_session_and_stores_no_other(tenant_a, charger, in_scope):
    start = a_start(charger)
    with in_scope(tenant_a):
        with transaction.atomic():
            first = session_start(**start)
        with transaction.atomic():
            again = session_start(**start)

        assert again.session.pk == first.session.pk
        assert ChargingSession.objects.filter(charger=charger, evse_id=2).count() == 1


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement run meanwhile, by any thread of this process (the sockets' database
    work runs on threads of its own, each with its own connection)."""
    seen: list[str] = []
    execute, executemany = CursorWrapper.execute, CursorWrapper.executemany

    def spy_execute(self, sql, params=None):
        seen.append(str(sql))
        return execute(self, sql, params)

    def spy_executemany(self, sql, param_list):
        seen.append(str(sql))
        return executemany(self, sql, param_list)

    monkeypatch.setattr(CursorWrapper, "execute", spy_execute)
    monkeypatch.setattr(CursorWrapper, "executemany", spy_executemany)
    return seen


async def test_a_whole_201_session_over_a_socket_is_written_without_a_savepoint(
    ocpp_server_in_process, tenant_a, make_charger, statements
):
    await sync_to_async(make_charger)(tenant_a)
    tx = new_transaction_id()
    t0 = datetime.now(UTC).replace(microsecond=0)
    at = [(t0 + timedelta(minutes=m)).isoformat() for m in range(3)]
    async with connected201(ocpp_server_in_process, "tenant-a", "CP-1") as cp:
        await cp.boot()
        statements.clear()
        await cp.tx("Started", 0, tx, timestamp=at[0], meter=1000, charging_state="Charging")
        # The charger lost the answer and sends it again, with a new message id.
        await cp.tx("Started", 0, tx, timestamp=at[0], meter=1000, charging_state="Charging")
        await cp.tx("Updated", 1, tx, timestamp=at[1], trigger="MeterValuePeriodic", meter=4000)
        await cp.tx("Updated", 1, tx, timestamp=at[1], trigger="MeterValuePeriodic", meter=4000)
        await cp.tx("Ended", 2, tx, timestamp=at[2], meter=9000, stopped_reason="EVDisconnected")
        written = list(statements)

    assert [sql for sql in written if "SAVEPOINT" in sql.upper()] == []
    assert any("chargers_transactioneventrecord" in sql for sql in written)
    session = await in_a(tenant_a, lambda: ChargingSession.objects.get())
    assert (session.transaction_id, session.state, session.energy_wh) == (
        tx,
        SessionState.COMPLETED,
        Decimal(8000),
    )
    seq_nos = await in_a(
        tenant_a, lambda: list(TransactionEventRecord.objects.values_list("seq_no", flat=True))
    )
    assert seq_nos == [0, 1, 2]
    assert await in_a(tenant_a, lambda: MeterSample.objects.filter(session=session).count()) == 3


def _report(
    charger_id: int, transaction_id: str, seq_no: int, event_type: str = "Started", evse_id=1
):
    return session_event_record(
        charger_id=charger_id,
        transaction_id=transaction_id,
        event_type=event_type,
        seq_no=seq_no,
        timestamp=STARTED,
        trigger_reason="Authorized",
        evse_id=evse_id,
        connector_id=1,
        samples=[Sample(STARTED, "Energy.Active.Import.Register", Decimal(100), "Wh")],
    )


def test_a_201_start_with_nothing_open_on_its_evse_searches_no_session_to_close(
    tenant_a, charger, in_scope
):
    """One fixed statement tells that no session is open on the EVSE (the fleet's runs on
    EVSE 1); the search for the sessions the charger came back without (built by the ORM,
    locking what it finds) is left out. tests/chargers/ocpp/test_lost_sessions.py has the
    start that does close one."""
    with in_scope(tenant_a), CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            _report(charger.pk, "T-ALONE", 0, evse_id=2)
    searches = [q["sql"] for q in queries.captured_queries if '"started_at" <' in q["sql"]]
    assert searches == []
    with in_scope(tenant_a):
        assert ChargingSession.objects.get(transaction_id="T-ALONE").state == SessionState.ACTIVE


def _a_lock_is_awaited(limit: float = 30.0) -> bool:
    """Whether some session of the test database waits for a row lock, polled until `limit`."""
    deadline = time.monotonic() + limit
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def _race(tenant, write) -> None:
    """`write("first")` and `write("second")` on two sockets' connections: the first holds its
    transaction open until the second is seen waiting for one of its row locks."""
    first_written, release = threading.Event(), threading.Event()

    def socket(name):
        try:
            with scoping.scope(tenant), transaction.atomic():
                write(name)
                if name == "first":
                    first_written.set()
                    release.wait(30)
        finally:
            connections.close_all()

    first = threading.Thread(target=socket, args=("first",))
    second = threading.Thread(target=socket, args=("second",))
    first.start()
    try:
        assert first_written.wait(30)
        second.start()
        assert _a_lock_is_awaited()
    finally:
        release.set()
        first.join(30)
        second.join(30)


@pytest.mark.parametrize("second_seq_no", [0, 1], ids=["resend", "next-report"])
def test_two_sockets_racing_with_a_new_transaction_share_one_session(
    tenant_a, charger, second_seq_no
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: there is no race to lose")
    tx = new_transaction_id()
    answers = {}
    seq_nos = {"first": 0, "second": second_seq_no}

    def report(name):
        answers[name] = _report(charger.pk, tx, seq_nos[name])

    # The second waits for the first's lock on the charger, not for its own luck.
    _race(tenant_a, report)

    assert answers["second"].session.pk == answers["first"].session.pk
    assert answers["second"].duplicate is (second_seq_no == 0)
    with scoping.scope(tenant_a):
        sessions = ChargingSession.objects.filter(transaction_id=tx).count()
        records = TransactionEventRecord.objects.filter(session__transaction_id=tx).count()
    assert (sessions, records) == (1, 1 if second_seq_no == 0 else 2)


def _status(charger_id: int, status: str, at: datetime) -> None:
    connector_status_record(
        charger_id=charger_id, evse_id=1, connector_id=1, status=status, timestamp=at
    )


def test_a_status_is_written_in_two_statements_without_a_savepoint(tenant_a, charger, in_scope):
    with in_scope(tenant_a):
        with transaction.atomic():
            _status(charger.pk, "Available", STARTED)
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            _status(charger.pk, "Charging", STARTED + timedelta(minutes=1))

        statements = [q["sql"] for q in queries.captured_queries]
        status_work = [
            sql.split(" ", 1)[0]
            for sql in statements
            if '"chargers_connector"' in sql or '"chargers_statusevent"' in sql
        ]
        assert _savepoints(queries) == []
        # The history's row and the connector's conditional UPDATE; no look at it first.
        assert status_work == ["INSERT", "UPDATE"]
        connector = Connector.objects.get(charger=charger, evse_id=1)
    assert (connector.status, connector.status_at) == ("Charging", STARTED + timedelta(minutes=1))


def test_an_older_status_joins_the_history_but_not_the_connector(tenant_a, charger, in_scope):
    with in_scope(tenant_a):
        _status(charger.pk, "Charging", STARTED + timedelta(minutes=1))
        _status(charger.pk, "Available", STARTED)  # queued offline, delivered late

        connector = Connector.objects.get(charger=charger, evse_id=1)
        history = StatusEvent.objects.filter(charger=charger, evse_id=1).count()
    assert (connector.status, history) == ("Charging", 2)


@pytest.mark.parametrize("second_is_newer", [True, False], ids=["newer", "older"])
def test_two_sockets_racing_with_a_connectors_first_status_keep_the_newest(
    tenant_a, charger, second_is_newer
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: there is no race to lose")
    minutes = {"first": 1, "second": 2 if second_is_newer else 0}

    # The second's INSERT waits for the first's connector row to commit or roll back.
    _race(
        tenant_a, lambda name: _status(charger.pk, name, STARTED + timedelta(minutes=minutes[name]))
    )

    with scoping.scope(tenant_a):
        connectors = list(Connector.objects.filter(charger=charger, evse_id=1))
        history = StatusEvent.objects.filter(charger=charger, evse_id=1).count()
    assert [c.status for c in connectors] == ["second" if second_is_newer else "first"]
    assert history == 2


@pytest.mark.parametrize(
    ("model", "indexed"),
    [
        (
            MeterSample,
            {
                ("id",),
                ("charger_id", "evse_id", "timestamp", "measurand", "phase", "location", "context"),
                ("session_id", "timestamp"),
            },
        ),
        (OcppMessage, {("id",), ("charger_id", "at")}),
        (StatusEvent, {("id",), ("charger_id", "evse_id", "timestamp")}),
    ],
)
def test_log_tables_write_only_the_indexes_their_reads_use(model, indexed):
    """Every index is written at each insert (nine samples per MeterValues): the tables that
    grow with every message keep no index that another one leading with the same columns
    already serves (a foreign key's own, the tenant's)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    found = {
        tuple(c["columns"])
        for c in constraints.values()
        if c["index"] or c["primary_key"] or c["unique"]
    }
    assert found == indexed


def _reading(charger, transaction_id: str, wh: int, power_w: int | None = None) -> None:
    """A MeterValues of the session with its register at `wh` (and power, if given), in a
    transaction of its own (a savepoint inside another)."""
    at = STARTED + timedelta(seconds=wh)
    samples = [Sample(at, "Energy.Active.Import.Register", Decimal(wh), "Wh")]
    if power_w is not None:
        samples.append(Sample(at, "Power.Active.Import", Decimal(power_w), "W"))
    _record(charger, transaction_id, samples)


def _record(charger, transaction_id: str, samples: list[Sample]) -> None:
    with transaction.atomic():
        meter_values_record(
            charger_id=charger.pk,
            evse_id=2,
            transaction_id=transaction_id,
            samples=samples,
            payload={},
        )


def test_a_meter_reading_rewrites_the_running_session_without_touching_its_indexes(
    tenant_a, charger
):
    """A MeterValues moves the session's register, power, energy and updated_at, columns no
    index holds: PostgreSQL writes the row's new version beside the old one and no index entry
    (a HOT update). Were one of them indexed (energy once was, for sums read from the index),
    every reading would write every index of the session again."""
    if connection.vendor != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    with scoping.scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        with transaction.atomic():
            _reading(charger, transaction_id, 600, power_w=7200)
            with connection.cursor() as cursor:
                # This transaction's own counts, not the statistics collector's, which lag.
                cursor.execute(
                    "SELECT pg_stat_get_xact_tuples_updated(%s::regclass),"
                    " pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
                    [ChargingSession._meta.db_table] * 2,
                )
                updated, hot = cursor.fetchone()
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert (session.meter_last_wh, session.power_w, session.energy_wh) == (600, 7200, 500)
    assert (updated, hot) == (1, 1)


def _session_statements(queries: CaptureQueriesContext) -> list[str]:
    """The first word of each statement on the sessions table, and whether it locked a row."""
    table = f'"{ChargingSession._meta.db_table}"'
    return [
        q["sql"].split()[0] + (" locked" if "FOR NO KEY UPDATE" in q["sql"] else "")
        for q in queries.captured_queries
        if table in q["sql"].split(" WHERE ")[0]
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
def test_a_running_sessions_readings_are_written_without_reading_the_session_first(
    tenant_a, charger, in_scope
):
    """The process remembers the figures it committed for a running session: the next reading
    is one conditional UPDATE, no locked read of the row before it."""
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        with CaptureQueriesContext(connection) as queries:
            _reading(charger, transaction_id, 600)
            _reading(charger, transaction_id, 900)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert _session_statements(queries) == ["UPDATE", "UPDATE"]
    assert (session.meter_last_wh, session.energy_wh) == (900, 800)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
def test_a_remembered_sessions_reading_reads_nothing_back_and_tells_the_figures_as_stored(
    tenant_a, charger, in_scope
):
    """The memo's write gives no row back: the event and the next write's condition are made
    from the figures computed, rounded as the row stores them (3 decimals of a Wh). Remembered
    unrounded, the next reading's condition would not match the row, and every reading would
    be read and locked again."""
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        _reading(charger, transaction_id, 600)
        at = STARTED + timedelta(seconds=700)
        fine = [Sample(at, "Energy.Active.Import.Register", Decimal("0.6012345"), "kWh")]
        with CaptureQueriesContext(connection) as queries, captured(SessionUpdated) as events:
            _record(charger, transaction_id, fine)
            _reading(charger, transaction_id, 900)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert _session_statements(queries) == ["UPDATE", "UPDATE"]
    assert not any("RETURNING" in q["sql"] for q in queries.captured_queries)
    assert [e.data()["energy_wh"] for e in events] == ["501.235", "800.000"]
    assert events[0].data()["started_at"] == session.started_at.isoformat()
    assert (session.meter_last_wh, session.energy_wh) == (900, 800)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
@pytest.mark.parametrize(
    ("change", "energy"),
    [
        # Another writer's figures (a correction, another process's MeterValues): followed.
        ({"meter_last_wh": Decimal(2000), "energy_wh": Decimal(1900)}, Decimal(2400)),
        # Closed meanwhile (by the server, on another process): a reading moves no energy.
        ({"state": SessionState.COMPLETED, "meter_stop_wh": Decimal(600)}, Decimal(500)),
    ],
)
def test_a_session_another_writer_changed_is_read_and_locked_again(
    tenant_a, charger, in_scope, change, energy
):
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        _reading(charger, transaction_id, 600)
        ChargingSession.objects.filter(transaction_id=transaction_id).update(**change)
        with CaptureQueriesContext(connection) as queries:
            _reading(charger, transaction_id, 2500)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
        samples = MeterSample.objects.filter(session=session).count()
    # The remembered figures no longer matched: nothing written, then the row read and locked.
    assert _session_statements(queries) == ["UPDATE", "SELECT locked", "UPDATE"]
    assert (session.energy_wh, samples) == (energy, 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
def test_a_reading_rolled_back_is_not_remembered(tenant_a, charger, in_scope):
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        _reading(charger, transaction_id, 600)
        with pytest.raises(RuntimeError), transaction.atomic():
            _reading(charger, transaction_id, 900)
            raise RuntimeError("the group failed after this reading")
        with CaptureQueriesContext(connection) as queries:
            _reading(charger, transaction_id, 1000)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    # Remembered from the committed 600, not the rolled-back 900: one UPDATE that matched.
    assert _session_statements(queries) == ["UPDATE"]
    assert (session.meter_last_wh, session.energy_wh) == (1000, 900)


def _stop(charger, transaction_id: str, wh: int) -> ChargingSession | None:
    with transaction.atomic():
        session, _ = session_stop(
            charger_id=charger.pk,
            transaction_id=transaction_id,
            meter_stop=Decimal(wh),
            timestamp=STARTED + timedelta(hours=1),
            reason="EVDisconnected",
            id_tag="CARD-2",
        )
    return session


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
def test_a_running_sessions_stop_is_written_without_reading_the_session_first(
    tenant_a, charger, in_scope
):
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        _reading(charger, transaction_id, 600, power_w=7200)
        with CaptureQueriesContext(connection) as queries:
            answered = _stop(charger, transaction_id, 1100)
        with CaptureQueriesContext(connection) as resent:
            _stop(charger, transaction_id, 1100)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert _session_statements(queries) == ["UPDATE"]
    stopped = (SessionState.COMPLETED, STARTED + timedelta(hours=1), "EVDisconnected", "CARD-2")
    figures = (Decimal(1100), Decimal(1100), Decimal(1000))
    for written in (answered, session):
        assert (written.state, written.stopped_at, written.stop_reason, written.stop_id_tag) == (
            stopped
        )
        assert (written.meter_stop_wh, written.meter_last_wh, written.energy_wh) == figures
        assert written.power_w is None and not written.closed_by_server
    # Forgotten once stopped: a resend reads the row, finds it stopped and changes nothing.
    assert _session_statements(resent) == ["SELECT locked"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the memo writes with RETURNING")
def test_a_stop_of_a_session_another_writer_changed_reads_and_locks_it_again(
    tenant_a, charger, in_scope
):
    with in_scope(tenant_a):
        with transaction.atomic():
            transaction_id = session_start(**a_start(charger)).session.transaction_id
        _reading(charger, transaction_id, 600)
        # Closed meanwhile by the server (another process): the charger's stop replaces it.
        ChargingSession.objects.filter(transaction_id=transaction_id).update(
            state=SessionState.COMPLETED, closed_by_server=True, stop_reason="Other"
        )
        with CaptureQueriesContext(connection) as queries:
            _stop(charger, transaction_id, 1100)
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert _session_statements(queries) == ["UPDATE", "SELECT locked", "UPDATE"]
    assert (session.stop_reason, session.closed_by_server, session.energy_wh) == (
        "EVDisconnected",
        False,
        Decimal(1000),
    )
