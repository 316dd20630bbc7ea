"""The project's PostgreSQL backend (cpms/postgresql/base.py)."""

import pytest
from django.db import connection
from psycopg import _queries

from chargers.models import MeterSample
from cpms.tenancy.rows import _statement


@pytest.mark.django_db
def test_a_statement_with_the_parameters_of_nine_samples_is_parsed_once():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's placeholder cache is PostgreSQL's")
    # The statement of a MeterValues' nine samples, as rows.py builds it.
    columns = ("tenant_id", "charger_id", "session_id", "evse_id", "timestamp", "measurand")
    columns += ("timestamp_suspect", "phase", "location", "context", "unit", "value")
    sql = _statement(MeterSample, (*columns, "signed_data"), True, 9)
    params = sql.count("%s")
    assert params > 50  # beyond psycopg's own bound
    query = "SELECT " + ", ".join(["%s"] * params)
    with connection.cursor() as cursor:
        cursor.execute(query, list(range(params)))
        before = _queries._query2pg_client.cache_info().hits
        cursor.execute(query, list(range(params)))
        assert cursor.fetchone() == tuple(range(params))
    assert _queries._query2pg_client.cache_info().hits == before + 1


@pytest.mark.django_db
def test_the_fixed_statements_are_prepared_and_djangos_own_are_not():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    fixed = "SELECT count(*) FROM chargers_charger WHERE id = %s"
    django_own = "SELECT count(*) FROM chargers_charger WHERE id > %s"
    for n in range(6):  # psycopg prepares a statement at its sixth run on the connection
        with connection.binding_cursor() as cursor:
            cursor.execute(fixed, [n])
        with connection.cursor() as cursor:
            cursor.execute(django_own, [n])

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert prepared == ["SELECT count(*) FROM chargers_charger WHERE id = $1"]


@pytest.mark.django_db
def test_a_prepared_statement_is_recorded_with_its_sql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    fixed = "SELECT count(*) FROM chargers_charger WHERE id = %s"
    with CaptureQueriesContext(connection) as queries:
        for n in range(7):  # prepared from the sixth run on
            with connection.binding_cursor() as cursor:
                cursor.execute(fixed, [n])

    assert [q["sql"] for q in queries.captured_queries] == [
        fixed.replace("%s", str(n)) for n in range(7)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("binding", [False, True])
def test_timestamps_are_read_by_psycopgs_own_loader_as_utc(binding):
    if connection.vendor != "postgresql":
        pytest.skip("the loader is psycopg's")
    import datetime

    from psycopg import adapters
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader as PythonLoader

    with connection.binding_cursor() if binding else connection.cursor() as cursor:
        cursor.execute("SELECT '2026-12-07 23:15:01.5+02'::timestamptz, NULL::timestamptz")
        at, nothing = cursor.fetchone()
        loader = cursor.cursor.adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)

    assert at == datetime.datetime(2026, 12, 7, 21, 15, 1, 500000, tzinfo=datetime.UTC)
    assert at.tzinfo is datetime.UTC
    assert nothing is None
    # Not Django's, which parsed in Python: psycopg's compiled one where it is installed.
    assert not issubclass(loader, PythonLoader)
