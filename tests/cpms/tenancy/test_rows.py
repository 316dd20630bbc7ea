from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from chargers.models import Charger, MeterSample
from cpms.tenancy import rows, scoping
from cpms.tenancy.rows import insert_rows


@pytest.fixture
def charger(tenant_a):
    with scoping.scope(tenant_a):
        return Charger.objects.create(identity="CP-1")


def sample(charger, measurand, value):
    return {
        "tenant_id": charger.tenant_id,
        "charger_id": charger.pk,
        "evse_id": 1,
        "timestamp": datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        "measurand": measurand,
        "phase": "",
        "location": "Outlet",
        "context": "Sample.Periodic",
        "unit": "Wh",
        "value": value,
        "signed_data": "",
    }


def test_it_stores_rows_as_the_orm_reads_them(charger, tenant_a):
    with scoping.scope(tenant_a):
        insert_rows(
            MeterSample, [sample(charger, "Energy.Active.Import.Register", Decimal("12.5"))]
        )
        stored = MeterSample.objects.get()
    assert stored.value == Decimal("12.5")
    assert stored.timestamp == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert stored.charger_id == charger.pk and stored.session_id is None


def test_it_skips_a_resent_row_and_keeps_the_new_ones(charger, tenant_a):
    with scoping.scope(tenant_a):
        insert_rows(MeterSample, [sample(charger, "Energy.Active.Import.Register", 1)])
        stored = insert_rows(
            MeterSample,
            [sample(charger, "Energy.Active.Import.Register", 1), sample(charger, "SoC", 40)],
            ignore_conflicts=True,
        )
        assert stored == 1
        assert sorted(MeterSample.objects.values_list("measurand", flat=True)) == [
            "Energy.Active.Import.Register",
            "SoC",
        ]


def test_it_refuses_rows_of_another_tenant_and_rows_outside_any_scope(charger, tenant_b):
    row = sample(charger, "SoC", 40)

    with scoping.scope(tenant_b), pytest.raises(scoping.TenantScopeError):
        insert_rows(MeterSample, [row])
    with pytest.raises(scoping.TenantScopeError):
        insert_rows(MeterSample, [row])
    with scoping.unscoped():
        assert not MeterSample.objects.exists()


def test_rows_kept_for_later_are_refused_for_another_tenant_when_kept(charger, tenant_b):
    """Kept rows are written unscoped with a group's others: the scope is checked when they
    are kept, and a refused one is never written."""
    with rows.together():
        with scoping.scope(tenant_b), pytest.raises(scoping.TenantScopeError):
            rows.insert_rows_later(MeterSample, [sample(charger, "SoC", 40)])
        with pytest.raises(scoping.TenantScopeError):
            rows.insert_rows_later(MeterSample, [sample(charger, "SoC", 41)])
    with scoping.unscoped():
        assert not MeterSample.objects.exists()


def test_rows_kept_for_later_are_written_when_the_block_ends(charger, tenant_a):
    with rows.together():
        with scoping.scope(tenant_a):
            rows.insert_rows_later(MeterSample, [sample(charger, "SoC", 40)])
            assert not MeterSample.objects.exists()
    with scoping.scope(tenant_a):
        assert list(MeterSample.objects.values_list("value", flat=True)) == [Decimal(40)]


def test_it_refuses_rows_that_do_not_name_their_tenant(charger):
    row = sample(charger, "SoC", 40)
    del row["tenant_id"]
    with pytest.raises(ValueError, match="tenant"):
        insert_rows(MeterSample, [row])


def test_it_stores_many_rows_at_once_and_skips_repeats_within_them(charger, tenant_a):
    CHUNK = 64
    rows = [
        {
            **sample(charger, "SoC", n),
            "timestamp": datetime(2026, 5, 1, 12, n // 60, n % 60, tzinfo=UTC),
        }
        for n in range(CHUNK + 5)
    ]
    with scoping.scope(tenant_a):
        stored = insert_rows(MeterSample, [*rows, rows[0], rows[-1]], ignore_conflicts=True)
        assert stored == MeterSample.objects.count() == CHUNK + 5
        assert sorted(MeterSample.objects.values_list("value", flat=True)) == list(range(CHUNK + 5))


def a_session(tenant, charger, transaction_id="7"):
    from django.utils import timezone

    from chargers.models import ChargingSession

    with scoping.scope(tenant):
        return ChargingSession.objects.create(
            charger=charger,
            transaction_id=transaction_id,
            started_at=timezone.now(),
            evse_id=1,
            connector_id=1,
            meter_start_wh=Decimal("1000.5"),
            energy_wh=Decimal("12.25"),
        )


@pytest.mark.django_db(transaction=True)
def test_a_locked_row_reads_as_the_orm_reads_it(charger, tenant_a):
    from django.db import transaction

    from chargers.models import ChargingSession
    from cpms.tenancy.rows import locked_row

    session = a_session(tenant_a, charger)
    with scoping.scope(tenant_a), transaction.atomic():
        locked = locked_row(ChargingSession, charger_id=charger.pk, transaction_id="7")
        expected = ChargingSession.objects.get(pk=session.pk)
        assert {f.attname: getattr(locked, f.attname) for f in ChargingSession._meta.fields} == {
            f.attname: getattr(expected, f.attname) for f in ChargingSession._meta.fields
        }
        assert locked.meter_start_wh == Decimal("1000.5") and not locked._state.adding
        assert locked_row(ChargingSession, charger_id=charger.pk, transaction_id="8") is None


def test_a_locked_row_stays_in_its_tenant_scope(charger, tenant_a, tenant_b):
    from chargers.models import ChargingSession
    from cpms.tenancy.rows import locked_row

    a_session(tenant_a, charger)
    with scoping.scope(tenant_b):
        assert locked_row(ChargingSession, charger_id=charger.pk, transaction_id="7") is None
    with scoping.unscoped():
        assert locked_row(ChargingSession, charger_id=charger.pk, transaction_id="7") is not None
    with pytest.raises(scoping.TenantScopeError):
        locked_row(ChargingSession, charger_id=charger.pk, transaction_id="7")


def test_one_row_can_match_text_ignoring_case(tenant_a, tenant_b):
    from chargers.models import IdToken
    from cpms.tenancy.rows import one_row

    with scoping.scope(tenant_a):
        token = IdToken.objects.create(uid="AbC-1")
        assert one_row(IdToken, ignore_case=True, uid="abc-1").pk == token.pk
        assert one_row(IdToken, uid="abc-1") is None
    with scoping.scope(tenant_b):
        assert one_row(IdToken, ignore_case=True, uid="abc-1") is None


def test_a_statement_naming_its_tenant_takes_only_the_active_scopes(tenant_a, tenant_b):
    from cpms.tenancy.rows import tenant_param

    with scoping.scope(tenant_a):
        assert tenant_param(tenant_a.pk) == tenant_a.pk
    with scoping.scope(tenant_b), pytest.raises(scoping.TenantScopeError):
        tenant_param(tenant_a.pk)  # another tenant's id, passed in
    with pytest.raises(scoping.TenantScopeError):
        tenant_param(tenant_a.pk)  # outside any scope
    with scoping.unscoped():
        assert tenant_param(tenant_a.pk) == tenant_a.pk  # platform work names any tenant


def test_any_row_looks_in_the_active_scope_only(charger, tenant_a, tenant_b):
    from chargers.models import Charger
    from cpms.tenancy.rows import any_row

    with scoping.scope(tenant_a):
        assert any_row(Charger, identity="CP-1")
        assert not any_row(Charger, identity="CP-2")
    with scoping.scope(tenant_b):
        assert not any_row(Charger, identity="CP-1")
    with scoping.unscoped():
        assert any_row(Charger, identity="CP-1")
    with pytest.raises(scoping.TenantScopeError):
        any_row(Charger, identity="CP-1")


def test_some_columns_of_a_row_are_read_in_the_active_scope_only(charger, tenant_a, tenant_b):
    from django.test.utils import CaptureQueriesContext

    with scoping.scope(tenant_a), CaptureQueriesContext(connection) as queries:
        found = rows.row_values(Charger, ("tenant_id", "identity"), lock=True, id=charger.pk)
    assert found == (tenant_a.pk, "CP-1")
    if connection.features.has_select_for_no_key_update:
        assert queries.captured_queries[-1]["sql"].endswith("FOR NO KEY UPDATE")
    with scoping.scope(tenant_b):
        assert rows.row_values(Charger, ("identity",), id=charger.pk) is None
    with pytest.raises(scoping.TenantScopeError):
        rows.row_values(Charger, ("identity",), id=charger.pk)


def chargers_named(prefix):
    """A read for `plain_rows`: the identities of chargers whose identity starts so."""
    return (
        Charger.objects.filter(identity__startswith=prefix)
        .order_by("identity")
        .values_list("identity", "is_online")
    )


def test_a_repeated_read_is_compiled_once_per_scope_and_reads_the_rows_of_now(
    charger, tenant_a, tenant_b
):
    from cpms.tenancy.rows import plain_rows

    with scoping.scope(tenant_b):
        Charger.objects.create(identity="CP-B")
    with scoping.scope(tenant_a):
        assert [row[0] for row in plain_rows(chargers_named, "CP-")] == ["CP-1"]
        Charger.objects.create(identity="CP-2", is_online=True)
        # The statement is the one compiled above; the rows are today's.
        rows = plain_rows(chargers_named, "CP-")
        assert [row[0] for row in rows] == ["CP-1", "CP-2"] and rows[1][1]
        assert plain_rows(chargers_named, "CP-2") == [("CP-2", True)]
    with scoping.scope(tenant_b):
        assert [row[0] for row in plain_rows(chargers_named, "CP-")] == ["CP-B"]
    with scoping.unscoped():
        assert len(plain_rows(chargers_named, "CP-")) == 3
    with pytest.raises(scoping.TenantScopeError):
        plain_rows(chargers_named, "CP-")


def test_saving_some_fields_writes_those_and_the_auto_now_time_in_the_scope_only(
    charger, tenant_a, tenant_b
):
    from django.db import DatabaseError

    from chargers.models import ChargingSession
    from cpms.tenancy.rows import save_fields

    session = a_session(tenant_a, charger)
    with scoping.scope(tenant_a):
        before = ChargingSession.objects.get(pk=session.pk)
    session.energy_wh = Decimal("99.5")
    session.power_w = Decimal("7400")  # changed, but not named: not written
    with scoping.scope(tenant_a):
        save_fields(session, ["energy_wh", "updated_at"])
        stored = ChargingSession.objects.get(pk=session.pk)
    assert stored.energy_wh == Decimal("99.5") and stored.power_w == before.power_w
    assert stored.updated_at > before.updated_at and stored.updated_at == session.updated_at
    # Another tenant's scope finds no such row, and no scope is refused, as with the ORM.
    session.energy_wh = Decimal("1")
    with scoping.scope(tenant_b), pytest.raises(DatabaseError):
        save_fields(session, ["energy_wh"])
    with pytest.raises(scoping.TenantScopeError):
        save_fields(session, ["energy_wh"])
    with scoping.scope(tenant_a):
        assert ChargingSession.objects.get(pk=session.pk).energy_wh == Decimal("99.5")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's server-side binding")
def test_the_fixed_statements_bind_their_parameters_on_the_server(charger, tenant_a):
    """Django's cursors quote every parameter into the text, in Python; these send them
    apart, adapted in C, and read the same rows."""
    from cpms.tenancy.rows import _cursor, one_row

    with _cursor() as cursor:
        assert isinstance(cursor.cursor, psycopg.Cursor)
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)
        cursor.execute("SELECT %s::int + 1, %s", [41, "CP-1"])
        assert cursor.fetchone() == (42, "CP-1")
    with scoping.scope(tenant_a):
        assert one_row(Charger, identity="CP-1") == charger


@pytest.mark.django_db
def test_many_rows_go_in_statements_of_powers_of_two_rows(charger, tenant_a):
    """A handful of distinct statements per table, whatever the row count: each is parsed
    once by the driver and prepared by the server."""
    from django.test.utils import CaptureQueriesContext

    rows = [
        {**sample(charger, "SoC", n), "timestamp": datetime(2026, 5, 1, 12, 0, n, tzinfo=UTC)}
        for n in range(45)
    ]
    with scoping.scope(tenant_a), CaptureQueriesContext(connection) as queries:
        stored = insert_rows(MeterSample, rows)

    assert stored == 45
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    if connection.vendor == "postgresql":
        assert [sql.count("), (") + 1 for sql in inserts] == [32, 8, 4, 1]
    with scoping.scope(tenant_a):
        assert sorted(MeterSample.objects.values_list("value", flat=True)) == list(range(45))


@pytest.mark.django_db
def test_one_instance_is_inserted_as_save_creates_it_in_the_scope_only(charger, tenant_a, tenant_b):
    from django.utils import timezone

    from chargers.models import ChargingSession

    def unsaved():
        return ChargingSession(
            pk=rows.new_id(ChargingSession) or 4242,  # SQLite has no sequence to ask
            tenant_id=tenant_a.pk,
            charger=charger,
            transaction_id="9",
            started_at=timezone.now(),
            evse_id=1,
            connector_id=1,
            meter_start_wh=Decimal("1000.5"),
        )

    with scoping.scope(tenant_b), pytest.raises(scoping.TenantScopeError):
        rows.insert_one(unsaved())
    session = unsaved()
    with scoping.scope(tenant_a):
        rows.insert_one(session)
        stored = ChargingSession.objects.get()

    assert stored.pk == session.pk and not session._state.adding
    # Defaults and auto_now as save() sets them, on the row and on the instance.
    assert (stored.state, stored.energy_wh, stored.closed_by_server) == ("active", 0, False)
    assert stored.meter_start_wh == Decimal("1000.5")
    assert stored.updated_at is not None and stored.updated_at == session.updated_at


@pytest.mark.skipif(connection.vendor != "postgresql", reason="UPDATE ... RETURNING, as used")
def test_a_conditional_update_writes_only_while_the_row_holds_what_it_expects_in_the_scope(
    charger, tenant_a, tenant_b
):
    from chargers.models import ChargingSession

    session = a_session(tenant_a, charger)
    with scoping.scope(tenant_a):
        before = ChargingSession.objects.get(pk=session.pk)
    expected = {"energy_wh": before.energy_wh, "power_w": before.power_w}

    def write(energy: str, **guard):
        return rows.update_if_unchanged(
            ChargingSession, session.pk, {"energy_wh": Decimal(energy)}, {**expected, **guard}
        )

    # Another tenant's scope finds no such row: nothing written; no scope is refused.
    with scoping.scope(tenant_b):
        assert write("50") is None
    with pytest.raises(scoping.TenantScopeError):
        write("50")
    with scoping.scope(tenant_a):
        # A guard the row does not hold (NULL compared as a value): nothing written.
        assert write("60", power_w=Decimal("1")) is None
        written = write("70")
        again = write("80")  # the row no longer holds the energy expected
        stored = ChargingSession.objects.get(pk=session.pk)

    assert written is not None and written.pk == session.pk
    assert written.energy_wh == Decimal("70") and written.started_at == before.started_at
    assert again is None and stored.energy_wh == Decimal("70")


def test_a_conditional_write_says_only_whether_it_wrote_in_the_scope(charger, tenant_a, tenant_b):
    from chargers.models import ChargingSession

    session = a_session(tenant_a, charger)
    with scoping.scope(tenant_a):
        before = ChargingSession.objects.get(pk=session.pk)

    def write(energy: str, **guard) -> bool:
        expected = {"energy_wh": before.energy_wh, **guard}
        return rows.write_if_unchanged(
            ChargingSession, session.pk, {"energy_wh": Decimal(energy)}, expected
        )

    with scoping.scope(tenant_b):
        assert write("50") is False
    with pytest.raises(scoping.TenantScopeError):
        write("50")
    with scoping.scope(tenant_a):
        assert write("60", power_w=Decimal("1")) is False
        assert write("70") is True
        assert write("80") is False
        stored = ChargingSession.objects.get(pk=session.pk)
    assert stored.energy_wh == Decimal("70")
