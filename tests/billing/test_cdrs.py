"""Charge detail records: issued when a session ends, once however often the task runs, as a
new version when a session is corrected, and priced by the tariff version of their start."""

import subprocess
import threading
from datetime import timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from billing import services
from billing.events import CdrIssued
from billing.invoicing import month
from billing.models import ChargeDetailRecord
from billing.services import (
    assignment_create,
    cdr_issue,
    invoices_issue,
    tariff_create,
    tariff_update,
)
from billing.tasks import issue_cdr, price_missed_sessions
from chargers.models import ChargingSession, IdToken, SessionState
from chargers.reservations.models import Reservation, ReservationStatus
from chargers.reservations.services import reservation_use, reservations_close_expired
from chargers.services.sessions import session_start, session_stop, sessions_close_lost
from cpms.events import captured
from cpms.tenancy import scoping
from tests.billing.tariffs import T0, energy_elements
from tests.chargers.factories import meter_sample
from tests.helpers import setting_in_a_process


def records(tenant):
    with scoping.scope(tenant):
        return list(ChargeDetailRecord.objects.order_by("session_id", "version"))


def test_a_stop_issues_a_priced_record(tenant_a, standard_tariff, charge, eager):
    session = charge(kwh=20)

    (cdr,) = records(tenant_a)
    assert cdr.session_id == session.pk and cdr.version == 1
    assert (cdr.total_excl_vat_minor, cdr.total_incl_vat_minor, cdr.currency) == (600, 714, "EUR")
    assert cdr.total_energy == Decimal("20") and cdr.total_time == Decimal("1")
    assert cdr.tariff == standard_tariff and cdr.tariff_version.number == 1
    assert cdr.lines[0]["type"] == "ENERGY" and cdr.charging_periods[0]["dimensions"][0] == {
        "type": "ENERGY",
        "volume": "20.000000",
    }


def test_the_task_delivered_twice_issues_one_record(tenant_a, standard_tariff, charge):
    session = charge(kwh=20)  # not eager: the stop's task is queued, not run

    issue_cdr(tenant_id=tenant_a.pk, session_id=session.pk)
    issue_cdr(tenant_id=tenant_a.pk, session_id=session.pk)

    assert len(records(tenant_a)) == 1


def test_a_record_is_issued_once_and_announced_once(tenant_a, standard_tariff, charge):
    session = charge(kwh=5)

    with captured(CdrIssued) as published:
        issue_cdr(tenant_id=tenant_a.pk, session_id=session.pk)
        issue_cdr(tenant_id=tenant_a.pk, session_id=session.pk)

    assert [event.session_id for event in published] == [session.pk]
    assert published[0].total_incl_vat == Decimal("1.79")


def test_a_running_session_gets_no_record(tenant_a, standard_tariff, charger):
    with scoping.scope(tenant_a):
        started = session_start(
            charger_id=charger.pk, connector_id=1, id_tag="04AA", meter_start=0, timestamp=T0
        )
        assert cdr_issue(session_id=started.session.pk) is None


def test_a_session_no_tariff_applies_to_gets_no_record(tenant_a, charge, eager):
    charge(kwh=5)

    assert records(tenant_a) == []


def test_a_late_stop_issues_the_next_version_and_keeps_the_first(
    tenant_a, standard_tariff, charger, django_capture_on_commit_callbacks, eager
):
    with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
        lost = session_start(
            charger_id=charger.pk, connector_id=1, id_tag="04AA", meter_start=0, timestamp=T0
        ).session
        ChargingSession.objects.filter(pk=lost.pk).update(meter_last_wh=Decimal(2000))
        session_start(
            charger_id=charger.pk,
            connector_id=1,
            id_tag="04BB",
            meter_start=9000,
            timestamp=T0 + timedelta(hours=2),
        )
    with scoping.scope(tenant_a):
        first = ChargeDetailRecord.objects.get(session=lost)
        lost.refresh_from_db()
    assert lost.closed_by_server and first.version == 1

    with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
        session_stop(
            charger_id=charger.pk,
            transaction_id=lost.transaction_id,
            meter_stop=Decimal(10000),
            timestamp=T0 + timedelta(hours=1),
        )

    with scoping.scope(tenant_a):
        versions = list(ChargeDetailRecord.objects.filter(session=lost).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].supersedes_id == versions[0].pk
    assert versions[0].total_excl_vat_minor == first.total_excl_vat_minor  # untouched
    assert versions[1].total_excl_vat_minor == 300  # 10 kWh at 0.30


def test_the_zombie_path_prices_sessions_a_reboot_closed(
    tenant_a, standard_tariff, charger, django_capture_on_commit_callbacks, eager
):
    with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
        session = session_start(
            charger_id=charger.pk, connector_id=1, id_tag="04AA", meter_start=0, timestamp=T0
        ).session
        ChargingSession.objects.filter(pk=session.pk).update(
            meter_last_wh=Decimal(4000), energy_wh=Decimal(4000)
        )
        sessions_close_lost(charger_id=charger.pk, booted_at=T0 + timedelta(days=3650))

    (cdr,) = records(tenant_a)
    assert cdr.session_id == session.pk


def test_a_tariff_change_never_reprices_an_issued_record(
    tenant_a, standard_tariff, charge, eager, alice
):
    charge(kwh=10)
    with scoping.scope(tenant_a):
        tariff_update(tariff=standard_tariff, elements=energy_elements(0.50), user=alice)

    (cdr,) = records(tenant_a)
    assert cdr.total_excl_vat_minor == 300 and cdr.tariff_version.number == 1


def test_a_session_is_priced_by_the_version_in_force_at_its_start(
    tenant_a, standard_tariff, charge, eager
):
    with scoping.scope(tenant_a):
        tariff_update(tariff=standard_tariff, elements=energy_elements(0.50))
    charge(kwh=10, start=timezone.now() + timedelta(seconds=1))

    (cdr,) = records(tenant_a)
    assert cdr.tariff_version.number == 2 and cdr.total_excl_vat_minor == 500


def test_the_sweep_prices_sessions_whose_task_was_lost(tenant_a, standard_tariff, charge, caplog):
    # Stopped an hour ago; the task queued on the stop is never run.
    session = charge(kwh=10, start=timezone.now() - timedelta(hours=2))

    price_missed_sessions()

    (cdr,) = records(tenant_a)
    assert cdr.session_id == session.pk
    # Said, for whoever watches the logs: tasks are being lost.
    assert "tenant tenant-a: the sweep priced 1 ended sessions" in caplog.text

    caplog.clear()
    price_missed_sessions()
    assert len(records(tenant_a)) == 1 and "the sweep priced" not in caplog.text


def test_beat_runs_the_sweep_as_often_as_the_environment_says():
    schedule = 'CELERY_BEAT_SCHEDULE["price-missed-sessions"]["schedule"]'
    assert setting_in_a_process(schedule) == "300.0"
    assert setting_in_a_process(schedule, PRICING_SWEEP_SECONDS="15") == "15.0"
    with pytest.raises(subprocess.CalledProcessError) as refused:
        setting_in_a_process(schedule, PRICING_SWEEP_SECONDS="0")
    assert "PRICING_SWEEP_SECONDS: at least 1 (second)" in refused.value.stderr


def test_periods_come_from_the_meter_samples(tenant_a, standard_tariff, charger, eager):
    """Energy stops after 30 minutes; the next 30 are parking."""
    with scoping.scope(tenant_a):
        session = session_start(
            charger_id=charger.pk, connector_id=1, id_tag="04AA", meter_start=0, timestamp=T0
        ).session
        for minutes, wh in [(15, 2500), (30, 5000), (45, 5000)]:
            meter_sample(charger, T0 + timedelta(minutes=minutes), wh, session=session).save()
        session_stop(
            charger_id=charger.pk,
            transaction_id=session.transaction_id,
            meter_stop=Decimal(5000),
            timestamp=T0 + timedelta(hours=1),
        )
        cdr = cdr_issue(session_id=session.pk)

    assert cdr is not None and cdr.total_parking_time == Decimal("0.5")
    assert [p["dimensions"][0]["type"] for p in cdr.charging_periods] == [
        "ENERGY",
        "ENERGY",
        "PARKING_TIME",
    ]


@pytest.mark.parametrize(
    ("place", "expected"),
    [("tenant", 300), ("site", 400), ("charger", 500), ("connector", 600)],
)
def test_the_most_specific_place_wins(tenant_a, site_a, charger, charge, eager, place, expected):
    with scoping.scope(tenant_a):
        connector = charger.connectors.get()
        places = {
            "tenant": {},
            "site": {"site": site_a},
            "charger": {"charger": charger},
            "connector": {"connector": connector},
        }
        prices = {"tenant": 0.30, "site": 0.40, "charger": 0.50, "connector": 0.60}
        for name in list(places)[: list(places).index(place) + 1]:
            tariff = tariff_create(
                name=name, currency="EUR", elements=energy_elements(prices[name])
            )
            assignment_create(tariff=tariff, **places[name])

    charge(kwh=10)

    (cdr,) = records(tenant_a)
    assert cdr.total_excl_vat_minor == expected


def test_a_group_override_beats_every_place_and_priority_decides_between_groups(
    tenant_a, charger, charge, eager
):
    with scoping.scope(tenant_a):
        fleet = IdToken.objects.create(uid="FLEET-1", label="Fleet")
        IdToken.objects.create(uid="04CAFE", group=fleet)
        for name, price, extra in [
            ("charger", 0.50, {"charger": charger}),
            ("fleet low", 0.10, {"group": fleet, "priority": 1}),
            ("fleet high", 0.20, {"group": fleet, "priority": 5}),
        ]:
            tariff = tariff_create(name=name, currency="EUR", elements=energy_elements(price))
            assignment_create(tariff=tariff, **extra)

    charge(kwh=10, id_tag="04CAFE")
    charge(kwh=10, id_tag="04OTHER", start=T0 + timedelta(hours=3))

    fleet_cdr, other_cdr = records(tenant_a)
    assert fleet_cdr.total_excl_vat_minor == 200 and fleet_cdr.group_id == fleet.pk
    assert other_cdr.total_excl_vat_minor == 500


def test_a_deleted_tariff_prices_no_new_session_and_keeps_its_records(
    tenant_a, standard_tariff, charge, eager
):
    charge(kwh=10)
    with scoping.scope(tenant_a):
        services.tariff_delete(tariff=standard_tariff)
    charge(kwh=10, start=T0 + timedelta(hours=3))

    (cdr,) = records(tenant_a)
    assert cdr.tariff_id == standard_tariff.pk


def test_two_state_changes_of_a_completed_session_make_no_second_version(
    tenant_a, standard_tariff, charge
):
    session = charge(kwh=10)
    with scoping.scope(tenant_a):
        first = cdr_issue(session_id=session.pk)
        again = cdr_issue(session_id=session.pk)
        assert session.state == SessionState.COMPLETED
    assert first == again


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_session_issue_one_record(tenant_a, standard_tariff, charge):
    session = charge(kwh=10)
    barrier = threading.Barrier(2)
    failures = []

    def worker():
        try:
            barrier.wait(timeout=30)
            issue_cdr(tenant_id=tenant_a.pk, session_id=session.pk)
        except Exception as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert len(records(tenant_a)) == 1


def test_a_stop_dated_before_its_start_prices_a_session_of_no_length(
    tenant_a, standard_tariff, charge, eager
):
    session = charge(kwh=1, minutes=-30)

    (cdr,) = records(tenant_a)
    assert cdr.session_id == session.pk and cdr.total_time == 0


def test_a_tenant_assigning_no_tariff_queues_no_pricing_until_it_assigns_one(
    tenant_a, charge, django_capture_on_commit_callbacks
):
    with mock.patch("billing.listeners.queue_task") as queued:
        charge(kwh=5)
        charge(kwh=5, start=T0 + timedelta(hours=2))  # remembered: no tariff here
        assert queued.call_count == 0
        with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
            tariff = tariff_create(name="Standard", currency="EUR", elements=energy_elements(0.3))
            assignment_create(tariff=tariff)
        charge(kwh=5, start=T0 + timedelta(hours=4))
    # The record and the 1.6 charger's final cost, for the session after the assignment.
    assert [call.args[0].name for call in queued.call_args_list] == [
        issue_cdr.name,
        "billing.tasks.send_final_cost",
    ]


def test_a_session_that_used_a_reservation_has_the_reservation_s_cost_in_its_record(
    tenant_a, charger, eager, django_capture_on_commit_callbacks
):
    with scoping.scope(tenant_a):
        tariff = tariff_create(
            name="Reservable",
            currency="EUR",
            elements=[
                {
                    "price_components": [{"type": "TIME", "price": 2.00, "vat": 19}],
                    "restrictions": {"reservation": "RESERVATION"},
                },
                *energy_elements(0.30),
            ],
        )
        assignment_create(tariff=tariff)
        reservation = Reservation.objects.create(
            charger=charger, evse_id=1, id_tag="04AABBCC", ocpp_id=7,
            expires_at=T0 + timedelta(hours=1), status=ReservationStatus.ACCEPTED,
        )  # fmt: skip
        # Made half an hour before the driver arrived.
        Reservation.objects.filter(pk=reservation.pk).update(created_at=T0 - timedelta(minutes=30))
    with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
        started = session_start(
            charger_id=charger.pk, connector_id=1, id_tag="04AABBCC", meter_start=0,
            timestamp=T0, reservation_id=7,
        )  # fmt: skip
        reservation_use(session_id=started.session.pk)
        session_stop(
            charger_id=charger.pk, transaction_id=started.session.transaction_id,
            meter_stop=Decimal(10000), timestamp=T0 + timedelta(hours=1), reason="Local",
        )  # fmt: skip

    (cdr,) = records(tenant_a)
    # 10 kWh at 0.30 and half an hour reserved at 2.00, 19 % VAT over both.
    assert (cdr.total_excl_vat_minor, cdr.total_incl_vat_minor) == (400, 476)
    reserved = [line for line in cdr.lines if line.get("reservation")]
    assert reserved == [
        {"type": "TIME", "element": 0, "price": "2.0", "vat": "19", "step_size": 1,
         "volume": "0.500000", "excl_vat": "1.00", "reservation": True}
    ]  # fmt: skip


def test_a_reservation_that_expired_unused_is_priced_in_a_record_of_its_own(
    tenant_a, charger, fleet_customer, eager, django_capture_on_commit_callbacks
):
    with scoping.scope(tenant_a):
        tariff = tariff_create(
            name="Reservable",
            currency="EUR",
            elements=[
                {
                    "price_components": [{"type": "FLAT", "price": 5.00, "vat": 19}],
                    "restrictions": {"reservation": "RESERVATION_EXPIRES"},
                },
                {
                    "price_components": [{"type": "TIME", "price": 2.00, "vat": 19}],
                    "restrictions": {"reservation": "RESERVATION"},
                },
                *energy_elements(0.30),
            ],
        )
        assignment_create(tariff=tariff)
        token = IdToken.objects.get(uid="CARD-A")
        reservation = Reservation.objects.create(
            charger=charger, evse_id=1, id_token=token, id_tag="CARD-A", ocpp_id=8,
            expires_at=T0 + timedelta(hours=1), status=ReservationStatus.ACCEPTED,
        )  # fmt: skip
        Reservation.objects.filter(pk=reservation.pk).update(created_at=T0)
    with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
        reservations_close_expired(now=T0 + timedelta(hours=2))

    with scoping.scope(tenant_a):
        again = services.reservation_cdr_issue(reservation_id=reservation.pk)
        (cdr,) = ChargeDetailRecord.objects.all()
        (invoice,) = invoices_issue(period=month(2026, 3, ZoneInfo("Europe/Berlin")))
        description = invoice.lines.get().description
    # The expiry fee and the hour it held the connector: 5.00 + 2.00, 19 % VAT.
    assert cdr.session_id is None and cdr.reservation_id == reservation.pk and again == cdr
    assert (cdr.total_excl_vat_minor, cdr.total_incl_vat_minor) == (700, 833)
    assert cdr.group_id == token.group_id and cdr.total_time == Decimal(1)
    assert [line["type"] for line in cdr.lines] == ["FLAT", "TIME"]
    # Its token's customer is invoiced for it.
    assert invoice.total_incl_vat_minor == 833
    assert description.startswith("Reservation on CP-A1")


def test_a_reservation_used_or_cancelled_gets_no_record_of_its_own(
    tenant_a, charger, standard_tariff
):
    with scoping.scope(tenant_a):
        reservation = Reservation.objects.create(
            charger=charger, evse_id=1, id_tag="04AABBCC", ocpp_id=9,
            expires_at=T0 + timedelta(hours=1), status=ReservationStatus.CANCELLED,
        )  # fmt: skip

        assert services.reservation_cdr_issue(reservation_id=reservation.pk) is None
        assert not ChargeDetailRecord.objects.exists()
