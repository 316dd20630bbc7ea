"""What ISO 15118 EVs say, as the services keep it. Who wins a session's needs: what an operator
or integrator wrote stays theirs field by field, an EV's statements fill the rest and keep it
current; needs stated before their transaction wait for it; a statement at a managed site
replans the site. An EV that keeps choosing more than its limit is renegotiated with only so
often."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from chargers.events import SessionStarted
from chargers.models import Charger, ChargingSession, Command, CommandStatus, SessionState
from chargers.smart_charging import services, tasks
from chargers.smart_charging.events import SiteLimitsChanged
from chargers.smart_charging.models import EvChargingNeeds, NeedsAnswer, NeedsSource, SessionNeeds
from chargers.smart_charging.schedules import EvNeeds, Period, Schedule
from chargers.smart_charging.services.ev import (
    NEEDS_WAIT,
    RENEGOTIATIONS_IN_A_ROW,
    ev_needs_attach,
    ev_needs_record,
    ev_schedule_record,
)
from cpms.events import captured, publish
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db(transaction=True)

LEAVES = datetime(2030, 1, 1, 17, 30, tzinfo=UTC)
OPERATOR_SAYS = datetime(2030, 1, 1, 19, 0, tzinfo=UTC)


def said(**values) -> EvNeeds:
    return EvNeeds(transfer="AC_three_phase", **values)


def states(session, **values):
    """The EV at the session's EVSE states its needs."""
    return ev_needs_record(charger_id=session.charger_id, evse_id=1, needs=said(**values))


def state(session):
    """The session's needs: (source, departure, energy, min A, max A, priority)."""
    row = SessionNeeds.objects.get(session=session)
    fields = ("source", "departure_at", "energy_needed_wh", "min_current_a", "max_current_a")
    return (*(getattr(row, f) for f in fields), row.priority)


@pytest.fixture
def loose_charger(tenant_a):
    """A charger at no site (so at no managed one), charging on EVSE 1."""
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-LOOSE", ocpp_version="2.0.1")
        ChargingSession.objects.create(
            charger=charger,
            evse_id=1,
            connector_id=1,
            transaction_id="9",
            started_at=timezone.now(),
        )
    return charger


@pytest.fixture
def ev_session(depot):
    """CP-2 (2.0.1), charging transaction 102 on EVSE 1."""
    return depot["sessions"][1]


def test_an_operators_values_win_field_by_field_and_the_evs_fill_the_rest(tenant_a, ev_session):
    with scoping.scope(tenant_a):
        services.session_needs_set(session=ev_session, departure_at=OPERATOR_SAYS, priority=2)
        states(ev_session, departure_at=LEAVES, energy_wh=30000, min_current_a=6, max_current_a=16)
        filled = state(ev_session)
        # The EV states new needs: what it filled follows, what the operator set stays.
        states(ev_session, departure_at=LEAVES, energy_wh=20000, min_current_a=8, max_current_a=20)
        followed = state(ev_session)
    amps = Decimal
    assert filled == (NeedsSource.OPERATOR, OPERATOR_SAYS, 30000, amps("6.0"), amps("16.0"), 2)
    assert followed == (NeedsSource.OPERATOR, OPERATOR_SAYS, 20000, amps("8.0"), amps("20.0"), 2)


def test_in_a_row_the_ev_created_what_an_integrator_writes_stays_theirs(tenant_a, ev_session):
    with scoping.scope(tenant_a):
        states(ev_session, departure_at=LEAVES, energy_wh=30000, max_current_a=16)
        states(ev_session, energy_wh=25000)
        assert state(ev_session) == (NeedsSource.EV, None, 25000, None, None, 0)
        # An integrator sets the departure: the EV's next statement leaves it.
        services.session_needs_set(session=ev_session, departure_at=OPERATOR_SAYS)
        states(ev_session, departure_at=LEAVES, energy_wh=10000)
        assert state(ev_session)[:3] == (NeedsSource.EV, OPERATOR_SAYS, 10000)
        # A priority makes the row theirs (an EV's row takes its group's priority).
        services.session_needs_set(session=ev_session, priority=5)
        states(ev_session, departure_at=LEAVES, energy_wh=5000)
        assert state(ev_session) == (NeedsSource.OPERATOR, OPERATOR_SAYS, 5000, None, None, 5)


def test_a_dc_evs_power_is_its_current_on_the_phases_its_charger_is_wired_to(tenant_a, depot):
    charger, session = depot["chargers"][1], depot["sessions"][1]
    with scoping.scope(tenant_a):
        services.charger_electrical_set(charger=charger, phases="L1")
        ev_needs_record(charger_id=charger.pk, evse_id=1, needs=said(max_power_w=7400.0))
        assert SessionNeeds.objects.get(session=session).max_current_a == Decimal("32.1")


@pytest.mark.usefixtures("inline_handoff")
def test_needs_at_a_managed_site_replan_it_and_elsewhere_do_not(tenant_a, depot, loose_charger):
    cache.clear()  # the depot's own writes queued a run
    with scoping.scope(tenant_a), mock.patch.object(tasks.recompute_site, "apply_async") as queued:
        elsewhere = ev_needs_record(
            charger_id=loose_charger.pk, evse_id=1, needs=said(energy_wh=1000)
        )
        assert elsewhere.answer == NeedsAnswer.NONE and not queued.called
        here = ev_needs_record(
            charger_id=depot["chargers"][1].pk, evse_id=1, needs=said(energy_wh=1000)
        )
    assert here.answer == NeedsAnswer.SCHEDULE
    queued.assert_called_once()
    assert queued.call_args.kwargs["kwargs"]["site_id"] == depot["site"].pk


def test_needs_wait_for_their_transaction_but_not_for_ever(tenant_a, depot):
    charger, old = depot["chargers"][1], depot["sessions"][1]
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=old.pk).update(state=SessionState.COMPLETED)
        long_ago = timezone.now() - NEEDS_WAIT - timedelta(minutes=1)
        stale = ev_needs_record(
            charger_id=charger.pk, evse_id=1, needs=said(energy_wh=5000), now=long_ago
        )
        waiting = ev_needs_record(charger_id=charger.pk, evse_id=1, needs=said(energy_wh=9000))
        assert waiting.answer == NeedsAnswer.LATER
        session = ChargingSession.objects.create(
            charger=charger,
            site=depot["site"],
            evse_id=1,
            connector_id=1,
            transaction_id="new",
            started_at=timezone.now(),
        )
        publish(SessionStarted.of(session))
        stale.refresh_from_db()
        waiting.refresh_from_db()
        assert (stale.session_id, waiting.session_id) == (None, session.pk)
        assert SessionNeeds.objects.get(session=session).energy_needed_wh == 9000
        assert not EvChargingNeeds.objects.filter(session=old).exists()


def test_an_ev_that_keeps_asking_for_more_is_renegotiated_with_only_so_often(tenant_a, depot):
    charger, session = depot["chargers"][1], depot["sessions"][1]
    now = timezone.now()
    greedy = Schedule("A", (Period(0, 20.0),))
    with scoping.scope(tenant_a):
        plan, outgoing = services.plan_compute(site=depot["site"], trigger="test")
        services.profiles_send(outgoing)  # its limit (6.4 A) goes out
        Command.objects.filter(charger=charger).update(
            status=CommandStatus.ANSWERED, response={"status": "Accepted"}
        )
        with captured(SiteLimitsChanged) as replans:
            verdicts = [
                ev_schedule_record(
                    charger_id=charger.pk, evse_id=1, schedule=greedy, time_base=now
                ).record
                for _ in range(RENEGOTIATIONS_IN_A_ROW + 1)
            ]
        modest = ev_schedule_record(
            charger_id=charger.pk,
            evse_id=1,
            schedule=Schedule("A", (Period(0, 6.0),)),
            time_base=now,
        ).record
    assert [v.within_limits for v in verdicts] == [False] * (RENEGOTIATIONS_IN_A_ROW + 1)
    assert "20 A (20.0 A) is over the 6.4 A sent" in verdicts[0].verdict
    assert len(replans) == RENEGOTIATIONS_IN_A_ROW
    assert modest.within_limits and modest.session_id == session.pk


def test_an_evs_departure_and_energy_weigh_where_a_site_shares_by_need(tenant_a, depot):
    urgent, relaxed = depot["sessions"][1], depot["sessions"][3]
    soon = timezone.now() + timedelta(hours=1)
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=depot["site"], grid_limit_a=Decimal(40), sharing="need")
        ChargingSession.objects.exclude(pk__in=[urgent.pk, relaxed.pk]).update(
            state=SessionState.COMPLETED
        )
        services.session_needs_set(
            session=relaxed, departure_at=soon + timedelta(hours=7), energy_needed_wh=5000
        )
        states(urgent, departure_at=soon, energy_wh=40000)
        plan, _ = services.plan_compute(site=depot["site"], trigger="test")
    limits = {row["session"]: row["limit_a"] for row in plan.allocations}
    assert limits[urgent.pk] > 3 * limits[relaxed.pk]
    assert sum(limits.values()) <= 40


def test_session_starts_ask_once_per_tenant_while_no_needs_wait_and_needs_are_heard_at_once(
    tenant_a, depot, django_assert_num_queries
):
    charger, old = depot["chargers"][1], depot["sessions"][1]
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=old.pk).update(state=SessionState.COMPLETED)
        with django_assert_num_queries(1):  # no needs wait: one question for all the starts
            for session in depot["sessions"]:
                ev_needs_attach(
                    tenant_id=tenant_a.pk,
                    session_id=session.pk,
                    charger_id=session.charger_id,
                    evse_id=1,
                )
        waiting = ev_needs_record(charger_id=charger.pk, evse_id=1, needs=said(energy_wh=9000))
        session = ChargingSession.objects.create(
            charger=charger, site=depot["site"], evse_id=1, connector_id=1,
            transaction_id="new", started_at=timezone.now(),
        )  # fmt: skip
        publish(SessionStarted.of(session))
        waiting.refresh_from_db()
        assert waiting.session_id == session.pk
