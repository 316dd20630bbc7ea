from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chargers.models import Charger, MeterSample
from cpms import scoping
from cpms.rows import insert_rows


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
    insert_rows(MeterSample, [sample(charger, "Energy.Active.Import.Register", Decimal("12.5"))])
    with scoping.scope(tenant_a):
        stored = MeterSample.objects.get()
    assert stored.value == Decimal("12.5")
    assert stored.timestamp == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert stored.charger_id == charger.pk and stored.session_id is None


def test_it_skips_a_resent_row_and_keeps_the_new_ones(charger, tenant_a):
    insert_rows(MeterSample, [sample(charger, "Energy.Active.Import.Register", 1)])
    insert_rows(
        MeterSample,
        [sample(charger, "Energy.Active.Import.Register", 1), sample(charger, "SoC", 40)],
        ignore_conflicts=True,
    )
    with scoping.scope(tenant_a):
        assert sorted(MeterSample.objects.values_list("measurand", flat=True)) == [
            "Energy.Active.Import.Register",
            "SoC",
        ]


def test_it_refuses_rows_that_do_not_name_their_tenant(charger):
    row = sample(charger, "SoC", 40)
    del row["tenant_id"]
    with pytest.raises(ValueError, match="tenant"):
        insert_rows(MeterSample, [row])


def test_it_stores_many_rows_at_once_and_skips_repeats_within_them(charger, tenant_a):
    CHUNK = 100
    rows = [
        {
            **sample(charger, "SoC", n),
            "timestamp": datetime(2026, 5, 1, 12, n // 60, n % 60, tzinfo=UTC),
        }
        for n in range(CHUNK + 5)
    ]
    insert_rows(MeterSample, [*rows, rows[0], rows[-1]], ignore_conflicts=True)
    with scoping.scope(tenant_a):
        assert MeterSample.objects.count() == CHUNK + 5
        assert sorted(MeterSample.objects.values_list("value", flat=True)) == list(range(CHUNK + 5))
