"""The control loop: a recompute stores the plan with its inputs and reasons and sends, through
the command path, only the profiles that changed; answers, rejections and silence are read
back into what the next plan assumes."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from chargers.events import SessionStarted, SessionUpdated
from chargers.models import Charger, ChargingSession, Command, CommandStatus, IdToken, SessionState
from chargers.ocpp.schemas import request_problem
from chargers.smart_charging import listeners, selectors, services, tasks
from chargers.smart_charging.events import LoadPlanChanged
from chargers.smart_charging.listeners import PENDING_KEY
from chargers.smart_charging.models import (
    LoadPlan,
    NeedsSource,
    ProfileKind,
    ProfileStatus,
    SentProfile,
    SiteElectrical,
)
from cpms.events import captured, publish
from cpms.tenancy import scoping
from tests.chargers.smart_charging.helpers import answer_all

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("inline_handoff", "empty_cache"),
]


def recompute(depot, now=None, trigger="test"):
    plan, outgoing = services.plan_compute(site=depot["site"], trigger=trigger, now=now)
    services.profiles_send(outgoing)
    return plan


def test_a_recompute_keeps_the_site_within_its_limit_and_says_why(tenant_a, depot):
    with scoping.scope(tenant_a):
        plan = recompute(depot)
    limits = sorted(row["limit_a"] for row in plan.allocations)
    assert limits == [0.0, 6.4, 6.4, 6.4, 6.4, 6.4]
    assert sum(limits) <= 32
    reasons = {row["reason"] for row in plan.allocations}
    assert "limited to 6.4 A: grid connection at 32 A shared by 6 sessions" in reasons
    assert plan.inputs["grid_limit_a"] == 32.0
    assert plan.inputs["history"]["limits"]


def test_each_session_gets_its_limit_and_each_charger_its_fallback_in_its_version(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)
        answer_all()
        recompute(depot)
        commands = list(Command.objects.order_by("pk"))
    assert len(commands) == 12
    assert {c.source for c in commands} == {"smart_charging"}
    for command in commands:
        assert command.action == "SetChargingProfile"
        version = "1.6" if command.charger.ocpp_version == "1.6" else "2.0.1"
        assert request_problem(version, command.action, command.payload) is None
    first = next(c for c in commands if c.charger.identity == "CP-1" and c.payload["connectorId"])
    assert first.payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
    assert first.payload["csChargingProfiles"]["transactionId"] == 101
    fallback = next(c for c in commands if c.charger.identity == "CP-2" and not c.payload["evseId"])
    profile = fallback.payload["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    # 32 A over six chargers: none of them offline can overload the connection.
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 5.3


def test_a_chargers_session_limits_go_before_its_fallback(tenant_a, depot):
    # OCPP 2.0.1 TC_K_55: the TxProfile for a transaction is the first profile its charger
    # gets; the fallback (TxDefaultProfile) follows once the session holds its limit.
    with scoping.scope(tenant_a):
        first = recompute(depot)
        purposes = [purpose(c) for c in Command.objects.order_by("pk")]
        assert first.commands_sent == 6 and set(purposes) == {"TxProfile"}
        assert recompute(depot).commands_sent == 0  # not while the limits are on their way
        answer_all()
        then = recompute(depot)
        purposes = [purpose(c) for c in Command.objects.order_by("pk")][6:]
    assert then.commands_sent == 6 and set(purposes) == {"TxDefaultProfile"}


def test_a_charger_without_a_session_gets_its_fallback_at_once(tenant_a, depot):
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=depot["sessions"][0].pk).update(
            state=SessionState.COMPLETED
        )
        recompute(depot)
        idle = depot["sessions"][0].charger_id
        sent = [purpose(c) for c in Command.objects.filter(charger_id=idle)]
    assert sent == ["TxDefaultProfile"]


def purpose(command) -> str:
    payload = command.payload
    profile = payload.get("csChargingProfiles") or payload["chargingProfile"]
    return profile["chargingProfilePurpose"]


def test_nothing_is_sent_when_nothing_changed(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)
        answer_all()
        recompute(depot)
        answer_all()
        again = recompute(depot)
        assert again.commands_sent == 0
        assert not again.changed
        assert Command.objects.count() == 12
        assert SentProfile.objects.filter(status=ProfileStatus.ACCEPTED).count() == 12


def test_a_rejected_limit_counts_the_session_at_its_maximum_and_is_sent_again(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)
        answer_all(status="Rejected")
        later = timezone.now() + timedelta(seconds=5)
        plan = recompute(depot, now=later)
        reasons = [row["reason"] for row in plan.allocations]
        assert "its limit was rejected: counted at 32 A" in reasons
        # Only the fallbacks (a refused limit holds them back no longer): the retry waits.
        assert plan.commands_sent == 6
        retry = recompute(depot, now=later + timedelta(minutes=1))
        assert retry.commands_sent == 6
        assert SentProfile.objects.filter(attempts=2, kind=ProfileKind.SESSION).count() == 6


def test_a_charger_that_times_out_is_recorded_and_counted_at_its_maximum(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)
        answer_all(outcome=CommandStatus.TIMEOUT)
        plan = recompute(depot, now=timezone.now() + timedelta(seconds=5))
        assert SentProfile.objects.filter(status=ProfileStatus.FAILED).count() == 6
        assert all(row["binding"] in ("fixed", "paused") for row in plan.allocations)


def test_an_offline_charger_keeps_the_limit_it_accepted_and_is_sent_nothing(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)
        answer_all()
        Charger.objects.filter(identity="CP-1").update(is_online=False)
        before = Command.objects.order_by("-pk").values_list("pk", flat=True).first()
        plan = recompute(depot)
        row = next(r for r in plan.allocations if r["charger_identity"] == "CP-1")
        assert row["reason"].startswith("offline, holding the limit it accepted")
        assert not Command.objects.filter(pk__gt=before, charger__identity="CP-1").exists()


def test_an_ev_drawing_less_leaves_its_current_to_the_others(tenant_a, depot):
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=depot["site"], grid_limit_a=Decimal("100"))
        recompute(depot)
        answer_all()
        depot["sessions"][0].__class__.objects.filter(pk=depot["sessions"][0].pk).update(
            power_w=Decimal("2760")  # 4 A on three phases
        )
        plan = recompute(depot)
    row = next(r for r in plan.allocations if r["session"] == depot["sessions"][0].pk)
    assert row["limit_a"] == 6.0
    assert row["reason"] == "limited to 6 A: drawing 4 A, the rest given to others"


def test_a_lower_limit_in_the_evening_is_in_the_schedule(tenant_a, depot):
    site = depot["site"]
    zone = ZoneInfo(site.timezone)
    with scoping.scope(tenant_a):
        evening_at_40(site)
        at = datetime(2026, 12, 7, 16, 30, tzinfo=zone)
        plan = recompute(depot, now=at)
        row = plan.allocations[0]
        assert [p[1] for p in row["periods"]] == [16.6, 6.6]
        assert datetime.fromisoformat(row["periods"][1][0]) == datetime(
            2026, 12, 7, 17, tzinfo=zone
        )
        evening = recompute(depot, now=at + timedelta(hours=1))
        assert evening.inputs["grid_limit_a"] == 40.0


def test_a_signal_lowers_the_limit_until_it_expires(tenant_a, depot):
    site = depot["site"]
    now = timezone.now()
    with scoping.scope(tenant_a):
        services.limit_signal_post(
            site=site,
            limit_a=Decimal("12"),
            starts_at=now,
            expires_at=now + timedelta(minutes=30),
            source="DSO",
        )
        plan = recompute(depot, now=now)
        assert plan.inputs["grid_limit_a"] == 12.0
        assert plan.inputs["grid_source"] == "signal from DSO"
        assert sum(1 for r in plan.allocations if not r["paused"]) == 2
        after = recompute(depot, now=now + timedelta(minutes=31))
        assert after.inputs["grid_limit_a"] == 32.0


def test_a_changed_plan_is_announced_and_an_unchanged_one_is_not(tenant_a, depot):
    with scoping.scope(tenant_a), captured(LoadPlanChanged) as announced:
        recompute(depot)
        answer_all()
        recompute(depot)
    assert len(announced) == 1
    assert announced[0].site_id == depot["site"].pk
    assert announced[0].paused == 1


def test_a_session_start_at_a_managed_site_queues_one_debounced_recompute(tenant_a, depot):
    cache.clear()  # setting up the depot queued one
    with mock.patch.object(tasks.recompute_site, "apply_async") as queued:
        with scoping.scope(tenant_a):
            for session in depot["sessions"][:3]:
                publish(SessionStarted.of(session))
    assert queued.call_count == 1
    assert queued.call_args.kwargs["countdown"] == 2
    assert cache.get(PENDING_KEY.format(depot["site"].pk))


def test_a_site_without_settings_is_not_managed(tenant_a, site_a):
    with scoping.scope(tenant_a):
        plan, outgoing = services.plan_compute(site=site_a, trigger="test")
        assert not LoadPlan.objects.exists()
    assert plan is None and outgoing == []


def test_a_change_committed_after_its_scope_closed_still_queues_a_recompute(tenant_a, site_a):
    """seed_demo's pattern: a scope opened inside a transaction closes before the commit."""
    cache.clear()
    with mock.patch.object(tasks.recompute_site, "apply_async") as queued:
        with transaction.atomic(), scoping.scope(tenant_a):
            services.site_electrical_set(site=site_a, grid_limit_a=Decimal("40"))
    assert queued.call_count == 1
    assert queued.call_args.kwargs["kwargs"]["site_id"] == site_a.pk


def test_a_schedule_already_sent_is_not_sent_again_until_it_changes(tenant_a, depot):
    site = depot["site"]
    zone = ZoneInfo(site.timezone)
    with scoping.scope(tenant_a):
        evening_at_40(site)
        at = datetime(2026, 12, 7, 16, 30, tzinfo=zone)
        first = recompute(depot, now=at)
        answer_all()
        assert first.commands_sent == 6
        assert recompute(depot, now=at + timedelta(minutes=1)).commands_sent == 6  # fallbacks
        answer_all()
        assert recompute(depot, now=at + timedelta(minutes=5)).commands_sent == 0
        # Past 17:00 the schedule sent says 6.6 A from now on: still nothing to send.
        assert recompute(depot, now=at + timedelta(minutes=40)).commands_sent == 0


def test_only_a_significant_change_of_draw_queues_a_recompute(tenant_a, depot):
    with scoping.scope(tenant_a):
        recompute(depot)  # it assumed 11 kW, 15.9 A on each phase
    session = depot["sessions"][0]
    with mock.patch.object(tasks.recompute_site, "apply_async") as queued:
        cache.delete(PENDING_KEY.format(depot["site"].pk))
        with scoping.scope(tenant_a):
            ChargingSession.objects.filter(pk=session.pk).update(power_w=Decimal("11500"))
            session.refresh_from_db()
            publish(SessionUpdated.of(session))  # +0.7 A: noise
            assert queued.call_count == 0
            ChargingSession.objects.filter(pk=session.pk).update(power_w=Decimal("4140"))
            session.refresh_from_db()
            publish(SessionUpdated.of(session))  # 6 A: the EV took less
    assert queued.call_count == 1


def repeated(depot):
    """The depot's first plan, once its limits are answered, and a run a minute later that
    repeats it."""
    first = recompute(depot)
    answer_all()
    again = recompute(depot, now=timezone.now() + timedelta(minutes=1))
    assert again.same_as_id == first.pk
    return first, again


def test_a_run_that_changes_nothing_stores_a_pointer_to_the_plan_it_repeats(tenant_a, depot):
    with scoping.scope(tenant_a):
        first, again = repeated(depot)
        assert again.allocations == [] and set(again.inputs) == {"now", "history"}
        shown = selectors.plan_view(depot["site"])
        assert shown["computed_at"] == again.computed_at
        assert shown["connectors"] == first.allocations
        # A change stores the whole plan again.
        ChargingSession.objects.filter(pk=depot["sessions"][0].pk).update(
            state="completed", stopped_at=timezone.now()
        )
        changed = recompute(depot, now=timezone.now() + timedelta(minutes=2))
        assert changed.same_as_id is None and len(changed.allocations) == 5


def test_another_process_reads_a_repeated_plans_history_from_the_plan_it_repeats(tenant_a, depot):
    with scoping.scope(tenant_a):
        first, again = repeated(depot)
        assert set(again.inputs["history"]) == {"draws_at"}
        selectors._last_stored.clear()  # what a process that did not store it finds
        electrical = SiteElectrical.objects.get(site=depot["site"])
        inputs = selectors.site_inputs(depot["site"], electrical, timezone.now())
    history = first.inputs["history"]
    assert dict(inputs.history.limits) == history["limits"] and history["limits"]
    assert dict(inputs.history.charging_since) == history["charging_since"]
    assert inputs.assumed == {"draws": history["draws"], "draws_at": history["draws_at"]}
    assert inputs.last_full_id == first.pk


def test_a_session_with_needs_repeats_the_plan_while_only_the_clock_moves(tenant_a, depot):
    now = timezone.now()
    with scoping.scope(tenant_a):
        services.session_needs_set(
            session=depot["sessions"][0],
            departure_at=now + timedelta(hours=3),
            energy_needed_wh=20_000,
        )
        first = recompute(depot, now=now)
        answer_all()
        # The current it needs before it leaves grows a little each minute: its plan stays.
        again = recompute(depot, now=now + timedelta(minutes=1))
        assert again.same_as_id == first.pk
        services.session_needs_set(session=depot["sessions"][0], energy_needed_wh=30_000)
        needs_more = recompute(depot, now=now + timedelta(minutes=2))
        assert needs_more.same_as_id is None


def test_the_wiring_and_a_per_evse_maximum_reach_the_allocator(tenant_a, depot):
    first, second = depot["chargers"][:2]
    with scoping.scope(tenant_a):
        circuit = services.circuit_create(site=depot["site"], name="Board", limit_a=Decimal("40"))
        services.charger_electrical_set(
            charger=first,
            circuit=circuit,
            phases="L2",
            min_current_a=Decimal("8"),
            max_current_a=Decimal("20"),
            connector_max_a={"1": 13},
        )
        electrical = depot["site"].electrical
        inputs = selectors.site_inputs(depot["site"], electrical, timezone.now())
    by_key = {c.key: c for c in inputs.problem.connectors}
    wired = by_key[selectors.connector_key(first.pk, 1)]
    assert (wired.node, wired.phases, wired.min_a, wired.max_a) == (
        f"c{circuit.pk}",
        ("L2",),
        8.0,
        13.0,
    )
    plain = by_key[selectors.connector_key(second.pk, 1)]
    assert (plain.node, plain.min_a, plain.max_a) == ("grid", 6.0, 32.0)
    assert inputs.chargers[first.pk].is_online
    assert inputs.phase_count[first.pk] == 1


def test_a_charger_rewired_between_two_runs_is_planned_as_it_is_wired_now(tenant_a, depot):
    # A run reuses the site's connectors as the last one built them while its chargers' rows
    # read the same: a changed row is seen at once.
    first = depot["chargers"][0]
    key = selectors.connector_key(first.pk, 1)
    with scoping.scope(tenant_a):
        before = recompute(depot)
        assert next(r for r in before.allocations if r["charger"] == first.pk)["limit_a"] > 6
        services.charger_electrical_set(charger=first, max_current_a=Decimal("6"))
        inputs = selectors.site_inputs(depot["site"], depot["site"].electrical, timezone.now())
        assert next(c for c in inputs.problem.connectors if c.key == key).max_a == 6.0
        after = recompute(depot)
    assert next(r for r in after.allocations if r["charger"] == first.pk)["limit_a"] == 6.0


def test_a_session_on_an_evse_its_charger_never_reported_is_planned_too(tenant_a, depot):
    first = depot["chargers"][0]
    with scoping.scope(tenant_a):
        recompute(depot)
        ChargingSession.objects.create(
            charger=first,
            site=depot["site"],
            evse_id=2,
            connector_id=1,
            transaction_id="902",
            started_at=timezone.now(),
            state=SessionState.ACTIVE,
            power_w=Decimal("11000"),
        )
        plan = recompute(depot)
        again = selectors.site_inputs(depot["site"], depot["site"].electrical, timezone.now())
    assert {(r["charger"], r["evse_id"]) for r in plan.allocations} >= {
        (first.pk, 1),
        (first.pk, 2),
    }
    assert selectors.connector_key(first.pk, 2) in again.evses


def test_when_each_profile_was_sent_is_read_to_the_microsecond(tenant_a, depot):
    # Read as Unix seconds (`selectors.Epoch`), on PostgreSQL and on SQLite's text alike.
    with scoping.scope(tenant_a):
        recompute(depot)
        stored = {(p.charger_id, p.evse_id, p.kind): p.sent_at for p in SentProfile.objects.all()}
        inputs = selectors.site_inputs(depot["site"], depot["site"].electrical, timezone.now())
    assert (
        stored
        and {k: datetime.fromtimestamp(r.sent_ts, UTC) for k, r in inputs.sent.items()} == stored
    )


def test_a_tenant_managing_no_site_is_not_heard_until_it_manages_one(tenant_a, site_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-QUIET", site=site_a)
        session = ChargingSession.objects.create(
            charger=charger,
            site=site_a,
            evse_id=1,
            connector_id=1,
            transaction_id="1",
            started_at=timezone.now(),
        )
    handoff = mock.patch.object(listeners, "queue_call", wraps=listeners.queue_call)
    with handoff as handed, mock.patch.object(tasks.recompute_site, "apply_async") as queued:
        with scoping.scope(tenant_a):
            publish(SessionStarted.of(session))  # looks at the tenant's sites: none managed
            publish(SessionUpdated.of(session))  # not even handed off
            assert handed.call_count == 1 and queued.call_count == 0
            # Managing the site is heard at once: its own change, then the next session event.
            services.site_electrical_set(site=site_a, grid_limit_a=Decimal("40"))
            cache.clear()
            publish(SessionStarted.of(session))
    assert handed.call_count == 2 and queued.call_count == 2


def test_a_session_takes_its_groups_priority_unless_someone_set_its_own(tenant_a, depot):
    # Sessions 1-3 charge on fleet cards (group FLEET at priority 5); an operator gives session
    # 3 a priority of its own, and an ISO 15118 EV states session 2's needs (no priority).
    s1, s2, s3 = depot["sessions"][:3]
    with scoping.scope(tenant_a):
        fleet = IdToken.objects.create(uid="FLEET")
        for n, session in enumerate((s1, s2, s3), start=1):
            session.id_token = IdToken.objects.create(uid=f"CARD-{n}", group=fleet)
            session.save(update_fields=["id_token"])
        services.group_priority_set(group=fleet, priority=5, label="fleet")
        services.session_needs_set(session=s2, source=NeedsSource.EV, energy_needed_wh=20_000)
        services.session_needs_set(session=s3, priority=-2, priority_label="visitor")

        plan = recompute(depot)

    rows = {row["session"]: row for row in plan.allocations}
    assert "; priority fleet" in rows[s1.pk]["reason"]
    assert "; priority fleet" in rows[s2.pk]["reason"]
    assert "; priority visitor" in rows[s3.pk]["reason"]
    assert "priority" not in rows[depot["sessions"][3].pk]["reason"]
    # Six minimums do not fit 32 A: the one of the lowest priority waits.
    assert rows[s3.pk]["paused"] and not rows[s1.pk]["paused"] and not rows[s2.pk]["paused"]


def test_a_session_that_can_wait_is_sent_a_schedule_for_the_cheaper_hours(tenant_a, depot):
    from billing.services import assignment_create, tariff_create

    site = depot["site"]
    zone = ZoneInfo(site.timezone)
    at = datetime(2026, 12, 7, 20, 0, tzinfo=zone)  # energy is dear until 22:00
    dear_then_cheap = [
        {
            "price_components": [{"type": "ENERGY", "price": 0.45, "step_size": 1}],
            "restrictions": {"start_time": "07:00", "end_time": "22:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.15, "step_size": 1}]},
    ]
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site, grid_limit_a=Decimal("200"))
        tariff = tariff_create(name="Night", currency="EUR", elements=dear_then_cheap)
        assignment_create(tariff=tariff, site=site)
        waits = depot["sessions"][0]
        services.session_needs_set(
            session=waits, departure_at=at + timedelta(hours=10), energy_needed_wh=20_000
        )
        plan = recompute(depot, now=at)
        rows = {row["session"]: row for row in plan.allocations}
        sent = next(
            c
            for c in Command.objects.filter(charger_id=waits.charger_id)
            if purpose(c) == "TxProfile"
        )
    periods = sent.payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert (periods[0]["startPeriod"], periods[0]["limit"]) == (0, 0.0)
    assert periods[1]["startPeriod"] == 2 * 3600 and periods[1]["limit"] >= 6
    assert rows[waits.pk]["reason"].endswith("; planned for cheaper hours")
    # The others, who said nothing of their needs, keep the equal share now.
    assert all(r["limit_a"] > 0 for s, r in rows.items() if s != waits.pk)


def test_an_ev_that_takes_one_period_is_sent_one_never_above_the_plan(tenant_a, depot):
    site = depot["site"]
    zone = ZoneInfo(site.timezone)
    with scoping.scope(tenant_a):
        evening_at_40(site)
        one = depot["sessions"][1]  # a 2.0.1 charger's
        services.session_needs_set(session=one, max_schedule_tuples=1)
        recompute(depot, now=datetime(2026, 12, 7, 16, 30, tzinfo=zone))
        profile = Command.objects.get(charger_id=one.charger_id).payload["chargingProfile"]
        others = Command.objects.exclude(charger_id=one.charger_id).first().payload
    periods = profile["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert [p["limit"] for p in periods] == [6.6]  # the evening's share, from now on
    other = others.get("csChargingProfiles") or others["chargingProfile"]
    schedule = other["chargingSchedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    assert len(schedule["chargingSchedulePeriod"]) == 2  # the others get both


def evening_at_40(site):
    """100 A, and 40 A from 17:00 to 20:00."""
    services.site_electrical_set(site=site, grid_limit_a=Decimal("100"))
    services.limit_window_create(site=site, starts=time(17), ends=time(20), limit_a=Decimal("40"))
