"""The reservation services without a charger on the line: what is refused (naming the field),
how replies, sessions, the station's notifications and the beat tick move a reservation on.
The command path is replaced by `builders.perform` answering as a charger would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from chargers.models import ChargingSession, CommandStatus
from chargers.ocpp import builders
from chargers.reservations import services, tasks
from chargers.reservations.models import Reservation, ReservationStatus
from chargers.services.commands import command_create, command_finish, command_mark_sent
from chargers.services.sessions import session_start
from cpms.catalogs import compile_catalogs
from cpms.events import captured
from cpms.tenancy import scoping
from cpms.texts import localized
from tests.helpers import eager_tasks

HOUR = timedelta(hours=1)


class Answering:
    """`builders.perform` as a charger that answers each command with `replies[action]`
    (a reply dict, a command status such as offline, or None: not answered yet)."""

    def __init__(self, replies):
        self.replies = replies
        self.sent = []

    def __call__(self, charger, request, **options):
        command = command_create(
            charger=charger, action=request.action, payload=request.payload, source="reservation"
        )
        self.sent.append(request)
        reply = self.replies[request.action]
        if reply is None:
            command_mark_sent(command_id=command.pk)
        elif isinstance(reply, dict):
            command_finish(command_id=command.pk, status=CommandStatus.ANSWERED, response=reply)
        else:
            command_finish(command_id=command.pk, status=reply, error="")
        return command


@pytest.fixture
def charger_says(monkeypatch):
    def install(**replies):
        answering = Answering(replies)
        monkeypatch.setattr(builders, "perform", answering)
        return answering

    return install


def reserve(station, tag="04DRIVER", evse_id=1, expires_in=HOUR, **options):
    return services.reservation_create(
        charger=station,
        evse_id=evse_id,
        id_tag=tag,
        expires_at=timezone.now() + expires_in,
        **options,
    )


def refused(station, **options) -> dict:
    with pytest.raises(ValidationError) as error:
        reserve(station, **options)
    return error.value.message_dict


@pytest.fixture
def scope(tenant_a):
    with scoping.scope(tenant_a):
        yield


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"expires_in": -HOUR}, "expires_at"),
        ({"expires_in": timedelta(seconds=10)}, "expires_at"),
        ({"expires_in": timedelta(hours=25)}, "expires_at"),
        ({"tag": "04NOBODY"}, "id_token"),
        ({"tag": "04LOST"}, "id_token"),
        ({"evse_id": 3}, "evse_id"),
        ({"evse_id": 0}, "evse_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    station, tokens, scope, options, field
):
    problems = refused(station, **options)

    assert list(problems) == [field]
    assert not Reservation.objects.exists()


def test_an_offline_charger_is_refused(station, tokens, scope):
    station.is_online = False
    station.save()

    assert refused(station) == {
        "charger": ["The charger is offline: it cannot take a reservation."]
    }


def test_a_connector_reserved_already_is_refused_and_so_is_any_connector(station, tokens, scope):
    first = reserve(station, evse_id=1)

    assert "connector 1 reserved until" in refused(station, tag="04VAN", evse_id=1)["evse_id"][0]
    assert list(refused(station, tag="04VAN", evse_id=None)) == ["evse_id"]
    assert reserve(station, tag="04VAN", evse_id=2).ocpp_id == first.ocpp_id + 1


def test_the_maximum_is_a_setting(station, tokens, scope, settings):
    settings.RESERVATION_MAX_HOURS = 48

    assert reserve(station, expires_in=timedelta(hours=30)).status == ReservationStatus.REQUESTED


def test_a_grouped_token_is_sent_with_its_group(station, tokens, scope, charger_says):
    charger = charger_says(ReserveNow={"status": "Accepted"})

    reservation = reserve(station, tag="04van")
    services.reservation_send(reservation_id=reservation.pk)

    [sent] = charger.sent
    assert sent.payload["idTag"] == "04VAN" and sent.payload["parentIdTag"] == "FLEET-1"
    assert sent.payload["connectorId"] == 1 and sent.payload["reservationId"] == 1


@pytest.mark.parametrize("said", ["Occupied", "Faulted", "Unavailable", "Rejected"])
def test_the_chargers_refusal_rejects_it_with_its_status(
    station, tokens, scope, charger_says, said
):
    charger_says(ReserveNow={"status": said})
    reservation = reserve(station)

    with captured() as events:
        services.reservation_send(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert (reservation.status, reservation.charger_status) == (ReservationStatus.REJECTED, said)
    assert [e.status for e in events if e.name == "reservation.changed"] == ["rejected"]


def test_a_charger_that_goes_offline_meanwhile_rejects_it_with_the_reason(
    station, tokens, scope, charger_says
):
    charger_says(ReserveNow=CommandStatus.OFFLINE)
    reservation = reserve(station)

    services.reservation_send(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.REJECTED
    assert reservation.detail.startswith("The charger did not answer (Charger offline)")


def test_why_it_was_rejected_reads_in_the_readers_language(station, tokens, scope, charger_says):
    charger_says(ReserveNow={"status": "Occupied"})
    reservation = reserve(station)

    services.reservation_send(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.detail == "The charger answered Occupied."
    compile_catalogs()
    with translation.override("de"):
        assert localized(reservation.detail_text) == "Die Ladestation antwortete Occupied."


def accepted(station, charger_says, **options):
    charger_says(ReserveNow={"status": "Accepted"}, CancelReservation={"status": "Accepted"})
    reservation = reserve(station, **options)
    services.reservation_send(reservation_id=reservation.pk)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACCEPTED
    return reservation


def test_it_is_sent_once(station, tokens, scope, charger_says):
    reservation = accepted(station, charger_says)

    assert services.reservation_send(reservation_id=reservation.pk) is None


def test_cancelling_asks_the_charger_and_its_answer_closes_it(
    station, tokens, scope, charger_says, alice
):
    reservation = accepted(station, charger_says)

    services.reservation_cancel(reservation=reservation, cancelled_by=alice)
    services.reservation_send_cancellation(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == alice and reservation.closed_at is not None


def test_a_closed_reservation_cannot_be_cancelled(station, tokens, scope, charger_says):
    charger_says(ReserveNow={"status": "Occupied"})
    reservation = reserve(station)
    services.reservation_send(reservation_id=reservation.pk)

    with pytest.raises(ValidationError, match="this one is rejected"):
        services.reservation_cancel(reservation=reservation)


def test_a_reservation_not_sent_yet_is_cancelled_at_once_and_never_sent(
    station, tokens, scope, charger_says, alice
):
    charger = charger_says(ReserveNow={"status": "Accepted"})
    reservation = reserve(station)

    services.reservation_cancel(reservation=reservation, cancelled_by=alice)
    services.reservation_send(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == alice
    assert charger.sent == []


def test_a_reservation_cancelled_before_the_charger_answered_is_cancelled_there_after(
    station, tokens, scope, charger_says, django_capture_on_commit_callbacks
):
    charger = charger_says(ReserveNow=None, CancelReservation={"status": "Accepted"})
    reservation = reserve(station)
    reserve_now = services.reservation_send(reservation_id=reservation.pk)

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        services.reservation_cancel(reservation=reservation)
    assert [r.action for r in charger.sent] == ["ReserveNow"]
    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        command_finish(
            command_id=reserve_now.pk,
            status=CommandStatus.ANSWERED,
            response={"status": "Accepted"},
        )
        services.reservation_command_finished(command_id=reserve_now.pk)

    reservation.refresh_from_db()
    assert [r.action for r in charger.sent] == ["ReserveNow", "CancelReservation"]
    assert reservation.status == ReservationStatus.CANCELLED


def test_a_cancellation_that_does_not_arrive_leaves_it_accepted_to_try_again(
    station, tokens, scope, charger_says
):
    reservation = accepted(station, charger_says)
    charger_says(CancelReservation=CommandStatus.TIMEOUT)

    services.reservation_cancel(reservation=reservation)
    services.reservation_send_cancellation(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACCEPTED
    assert reservation.cancel_requested_at is None
    assert reservation.detail.startswith("Cancelling failed")


def start(station, tag, evse_id, reservation_id=None):
    return session_start(
        charger_id=station.pk,
        connector_id=evse_id,
        id_tag=tag,
        meter_start=0,
        timestamp=timezone.now(),
        reservation_id=reservation_id,
    ).session


def test_a_session_naming_the_reservation_uses_it(station, tokens, scope, charger_says):
    reservation = accepted(station, charger_says)
    session = start(station, "04DRIVER", 1, reservation_id=reservation.ocpp_id)

    services.reservation_use(session_id=session.pk)

    reservation.refresh_from_db()
    assert (reservation.status, reservation.session) == (ReservationStatus.USED, session)


def test_a_session_by_the_token_on_the_connector_uses_it_when_the_charger_omits_the_id(
    station, tokens, scope, charger_says
):
    reservation = accepted(station, charger_says, tag="04VAN", evse_id=None)
    someone_else = start(station, "04DRIVER", 2)
    services.reservation_use(session_id=someone_else.pk)
    fleet_mate = start(station, "04VAN2", 1)

    services.reservation_use(session_id=fleet_mate.pk)

    reservation.refresh_from_db()
    assert (reservation.status, reservation.session) == (ReservationStatus.USED, fleet_mate)


def test_a_group_reserved_is_used_by_a_member(station, tokens, scope, charger_says):
    reservation = accepted(station, charger_says, tag="FLEET-1")
    session = start(station, "04VAN2", 1)

    services.reservation_use(session_id=session.pk)

    reservation.refresh_from_db()
    assert reservation.group_id_tag == "FLEET-1"
    assert (reservation.status, reservation.session) == (ReservationStatus.USED, session)


def test_the_station_ending_it_closes_it(station, tokens, scope, charger_says):
    expired = accepted(station, charger_says)
    removed = accepted(station, charger_says, evse_id=2, tag="04VAN")

    services.reservation_ended_by_charger(
        charger_id=station.pk, reservation_id=expired.ocpp_id, ended="expired"
    )
    services.reservation_ended_by_charger(
        charger_id=station.pk, reservation_id=removed.ocpp_id, ended="removed"
    )
    services.reservation_ended_by_charger(charger_id=station.pk, reservation_id=99, ended="expired")

    expired.refresh_from_db(), removed.refresh_from_db()
    assert expired.status == ReservationStatus.EXPIRED
    assert (removed.status, removed.detail) == (
        ReservationStatus.CANCELLED,
        "The charger removed it.",
    )


def test_the_beat_tick_closes_expired_ones_for_every_tenant(
    station, tokens, tenant_a, charger_says
):
    with scoping.scope(tenant_a):
        unused = accepted(station, charger_says)
        used_quietly = accepted(station, charger_says, evse_id=2, tag="04VAN")
        # A session by the token whose news was lost: the tick still finds it.
        session = ChargingSession.objects.create(
            charger=station,
            evse_id=2,
            connector_id=1,
            transaction_id="77",
            started_at=timezone.now(),
            id_token=tokens["van"],
            id_tag="04VAN",
            meter_start_wh=Decimal(0),
        )
        Reservation.objects.filter(pk__in=[unused.pk, used_quietly.pk]).update(
            expires_at=timezone.now() + timedelta(seconds=1)
        )
        later = timezone.now() + timedelta(seconds=2)

    closed = 0
    for _tenant in scoping.each_tenant():
        closed += services.reservations_close_expired(now=later)
    tasks.tick()  # and the task itself, which finds nothing left to close

    with scoping.scope(tenant_a):
        unused.refresh_from_db(), used_quietly.refresh_from_db()
    assert closed == 2
    assert unused.status == ReservationStatus.EXPIRED
    assert (used_quietly.status, used_quietly.session_id) == (ReservationStatus.USED, session.pk)


def test_a_reservation_waiting_for_its_charger_is_sent_by_the_tick(
    station, tokens, tenant_a, charger_says
):
    charger = charger_says(ReserveNow={"status": "Accepted"})
    with scoping.scope(tenant_a):
        station.is_online = False
        station.save()
        waiting = reserve(station, when_online=True)
        Reservation.objects.filter(pk=waiting.pk).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
        tasks.tick()
        assert charger.sent == []
        station.is_online = True
        station.save()

    with eager_tasks():
        tasks.tick()

    with scoping.scope(tenant_a):
        waiting.refresh_from_db()
    assert waiting.status == ReservationStatus.ACCEPTED
    assert len(charger.sent) == 1
