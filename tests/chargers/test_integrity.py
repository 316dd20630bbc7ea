"""The integrity flags of sessions: each computed from stored facts, and the filter for a flag
selects exactly the sessions that show it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chargers.integrity import FLAGS, flag_filter, session_flags, with_integrity
from chargers.models import Charger, ChargerEvent, ChargingSession, EventKind, SessionState
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=2)


def make(charger, name, **facts):
    values = {
        "state": SessionState.COMPLETED,
        "meter_start_wh": Decimal(1000),
        "meter_stop_wh": Decimal(3000),
        "meter_last_wh": Decimal(3000),
        "stopped_at": T0 + timedelta(hours=1),
        **facts,
    }
    return ChargingSession.objects.create(
        charger=charger, evse_id=1, connector_id=1, transaction_id=name, started_at=T0, **values
    )


@pytest.fixture
def sessions(tenant_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-F")
        make(charger, "plain")
        make(charger, "running", state=SessionState.ACTIVE, meter_stop_wh=None, stopped_at=None)
        make(charger, "clock", timestamp_suspect=True)
        make(charger, "no-registers", meter_start_wh=None, meter_stop_wh=None, meter_last_wh=None)
        make(charger, "backwards", meter_stop_wh=Decimal(200), meter_last_wh=Decimal(200))
        make(charger, "lost", closed_by_server=True, stop_reason="Reboot")
        make(charger, "stale", closed_by_server=True, stop_reason="No stop after 48 h")
        make(charger, "aside")
        ChargerEvent.objects.create(
            charger=charger,
            kind=EventKind.UNMATCHED,
            summary="Stop of unknown transaction 999",
            # After the others stopped, while "aside" and "running" still ran.
            at=T0 + timedelta(hours=3),
        )
        ChargingSession.objects.filter(transaction_id="aside").update(
            stopped_at=T0 + timedelta(hours=4)
        )
        yield


def flags_by_session(tenant):
    with scoping.scope(tenant):
        return {
            s.transaction_id: session_flags(s)
            for s in with_integrity(ChargingSession.objects.all())
        }


def test_each_session_shows_the_flags_its_facts_give(tenant_a, sessions):
    assert flags_by_session(tenant_a) == {
        "plain": [],
        "running": ["stop_set_aside"],  # the stop kept aside arrived while it ran
        "clock": ["clock_suspect"],
        "no-registers": ["energy_estimated"],
        "backwards": ["energy_estimated"],
        "lost": ["closed_by_server"],
        "stale": ["stale_closed"],
        "aside": ["stop_set_aside"],
    }


@pytest.mark.parametrize("name", [*FLAGS, "any"])
def test_the_filter_for_a_flag_selects_the_sessions_that_show_it(tenant_a, sessions, name):
    shown = {
        tx for tx, flags in flags_by_session(tenant_a).items() if flags and name in (*flags, "any")
    }
    with scoping.scope(tenant_a):
        filtered = with_integrity(ChargingSession.objects.all()).filter(flag_filter(name))
        assert set(filtered.values_list("transaction_id", flat=True)) == shown


def test_an_unknown_flag_is_refused():
    with pytest.raises(ValueError, match="no integrity flag"):
        flag_filter("nonsense")
