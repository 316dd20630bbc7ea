"""Writes of reservations: the request (checked, numbered, recorded), the command that asks the
charger (1.6 and 2.0.1 ReserveNow, CancelReservation) and what its reply says, the session that
uses the reservation, and the end of those that expired or that the charger ended itself.

A request thread never waits for a charger: `reservation_create` and `reservation_cancel`
record the wish and a task sends the command once it is committed; the reply, heard through
`command.finished`, moves the record on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext

from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    CommandStatus,
    Connector,
    IdToken,
    IdTokenStatus,
    RegistrationStatus,
)
from chargers.ocpp import builders, readers
from chargers.reservations import texts
from chargers.reservations.events import ReservationChanged
from chargers.reservations.models import OPEN, Reservation, ReservationStatus
from chargers.services.commands import UNFINISHED
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.models import User
from cpms.texts import Text, columns

# A reservation must still be worth sending when it arrives at the charger.
MIN_AHEAD = timedelta(minutes=1)
# Who the command log names as the sender of reservation commands.
SOURCE = "reservation"
ACCEPTED = "Accepted"


def max_ahead() -> timedelta:
    """How far ahead a reservation may end: the tenant-wide maximum (`RESERVATION_MAX_HOURS`)."""
    return timedelta(hours=float(getattr(settings, "RESERVATION_MAX_HOURS", 24)))


def _changed(reservation: Reservation) -> None:
    publish(ReservationChanged.of(reservation))


def _token(id_tag: str, now: datetime) -> IdToken:
    token = IdToken.objects.select_related("group").filter(uid__iexact=id_tag.strip()).first()
    if token is None:
        raise ValidationError({"id_token": [gettext("No id token of this tenant has this uid.")]})
    status = token.status(now)
    if status != IdTokenStatus.ACCEPTED:
        raise ValidationError(
            {"id_token": [gettext("This id token is %(status)s.") % {"status": status.lower()}]}
        )
    return token


def _group_of(token: IdToken) -> str:
    """The group sent with a reservation: the token's group, so that its fellow members may
    use it; a group token reserved itself is sent as the group of its members."""
    if token.group is not None:
        return token.group.uid
    return token.uid if token.members.exists() else ""


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at < now + MIN_AHEAD:
        raise ValidationError(
            {"expires_at": [gettext("The reservation must end at least a minute ahead.")]}
        )
    if expires_at > now + max_ahead():
        hours = max_ahead().total_seconds() / 3600
        raise ValidationError(
            {
                "expires_at": [
                    gettext("A reservation ends at most %(hours)s hours ahead.")
                    % {"hours": f"{hours:g}"}
                ]
            }
        )


def _check_connector(charger: Charger, evse_id: int | None) -> None:
    if evse_id is None:
        return
    if evse_id < 1 or not Connector.objects.filter(charger=charger, evse_id=evse_id).exists():
        raise ValidationError(
            {
                "evse_id": [
                    gettext("%(charger)s has no connector %(evse)s.")
                    % {"charger": charger.identity, "evse": evse_id}
                ]
            }
        )


def _check_free(charger: Charger, evse_id: int | None, now: datetime) -> None:
    """One open reservation per connector at a time; one for any connector holds them all."""
    held = Reservation.objects.filter(charger=charger, status__in=OPEN, expires_at__gt=now)
    if evse_id is not None:
        held = held.filter(Q(evse_id=evse_id) | Q(evse_id__isnull=True))
    other = held.order_by("expires_at").first()
    if other is not None:
        raise ValidationError(
            {
                "evse_id": [
                    gettext("%(charger)s has %(connector)s reserved until %(until)s UTC.")
                    % {
                        "charger": charger.identity,
                        "connector": other.connector_label,
                        "until": f"{other.expires_at:%Y-%m-%d %H:%M}",
                    }
                ]
            }
        )


@transaction.atomic
def reservation_create(
    *,
    charger: Charger,
    id_tag: str,
    expires_at: datetime,
    evse_id: int | None = None,
    created_by: User | None = None,
    when_online: bool = False,
    now: datetime | None = None,
) -> Reservation:
    """Record a reservation of connector `evse_id` (None: any connector) of `charger` for the
    tenant's token `id_tag` until `expires_at`; the charger is asked once it is committed.

    Refused (ValidationError naming the field) for an unknown, blocked or expired token, an
    expiry in the past or beyond the maximum, a connector the charger does not have, one
    reserved already, and a charger that is offline or not accepted, unless `when_online`:
    then the reservation waits for the charger and the beat tick sends it when it connects.
    """
    now = now or timezone.now()
    # The charger's row serialises reservations of its connectors and their numbering.
    charger = Charger.objects.select_for_update().get(pk=charger.pk)
    if charger.registration_status != RegistrationStatus.ACCEPTED:
        raise ValidationError({"charger": [gettext("The charger is not accepted (registration).")]})
    if not charger.is_online and not when_online:
        raise ValidationError(
            {"charger": [gettext("The charger is offline: it cannot take a reservation.")]}
        )
    token = _token(id_tag, now)
    _check_expiry(expires_at, now)
    # A charger that never connected has told us of no connector yet: its answer decides.
    if not when_online or Connector.objects.filter(charger=charger).exists():
        _check_connector(charger, evse_id)
    _check_free(charger, evse_id, now)
    last = Reservation.objects.filter(charger=charger).aggregate(last=Max("ocpp_id"))["last"]
    reservation = Reservation.objects.create(
        charger=charger,
        evse_id=evse_id,
        id_token=token,
        id_tag=token.uid,
        group_id_tag=_group_of(token),
        expires_at=expires_at,
        ocpp_id=(last or 0) + 1,
        created_by=created_by,
    )
    audit.created(reservation, ObjectType.RESERVATION)
    _changed(reservation)
    if not when_online:
        _send_on_commit(reservation)
    return reservation


def _send_on_commit(reservation: Reservation) -> None:
    from chargers.reservations.tasks import send_reservation

    tenant_id, pk = reservation.tenant_id, reservation.pk
    transaction.on_commit(lambda: send_reservation.delay(tenant_id=tenant_id, reservation_id=pk))


def _locked(**lookup: object) -> Reservation | None:
    return (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("charger")
        .filter(**lookup)
        .first()
    )


def reservation_send(*, reservation_id: int) -> Command | None:
    """Ask the charger to hold the reservation; once. Returns the command (None: it was sent
    already, or is no longer requested)."""
    with transaction.atomic():
        reservation = _locked(pk=reservation_id)
        if reservation is None or reservation.status != ReservationStatus.REQUESTED:
            return None
        if reservation.sent_at is not None:
            return None
        reservation.sent_at = timezone.now()
        reservation.save(update_fields=["sent_at"])
    built = builders.reserve(
        reservation.charger,
        reservation_id=reservation.ocpp_id,
        evse_id=reservation.evse_id,
        id_tag=reservation.id_tag,
        expires_at=reservation.expires_at,
        group_id_tag=reservation.group_id_tag,
    )
    command = builders.perform(
        reservation.charger,
        built,
        wait=False,
        requested_by=reservation.created_by,
        source=SOURCE,
    )
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation_id)
        reservation.command = command
        reservation.save(update_fields=["command"])
        # The reply may have been recorded before the command was linked here.
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            _reserve_outcome(reservation, command)
    return command


def _close(reservation: Reservation, status: str, detail: Text | str, **fields: object) -> None:
    reservation.status = status
    _set_detail(reservation, detail)
    reservation.closed_at = timezone.now()
    for name, value in fields.items():
        setattr(reservation, name, value)
    reservation.save()
    _changed(reservation)


def _set_detail(reservation: Reservation, detail: Text | str) -> None:
    plain, reservation.detail_text = columns(detail)
    reservation.detail = plain[:300]


def _not_answered(command: Command) -> Text:
    label = CommandStatus(command.status).label
    if command.error:
        return texts.NOT_ANSWERED_ERROR(status=label, error=command.error)
    return texts.NOT_ANSWERED(status=label)


def _reserve_outcome(reservation: Reservation, command: Command) -> None:
    if reservation.status != ReservationStatus.REQUESTED:
        return
    if command.status != CommandStatus.ANSWERED:
        _close(reservation, ReservationStatus.REJECTED, _not_answered(command))
        return
    said = readers.reply_status(command.response)
    reservation.charger_status = said[:20]
    if said == ACCEPTED:
        reservation.status = ReservationStatus.ACCEPTED
        _set_detail(reservation, "")
        reservation.save(update_fields=["status", "charger_status", "detail", "detail_text"])
        _changed(reservation)
        if reservation.cancel_requested_at is not None:
            # Cancelled while the charger was still answering: now it holds it, cancel it there.
            _queue_cancellation(reservation)
        return
    answered = texts.ANSWERED(said=said or texts.ANSWERED_NOTHING())
    _close(reservation, ReservationStatus.REJECTED, answered)


def _cancel_outcome(reservation: Reservation, command: Command) -> None:
    if reservation.status not in OPEN:
        return
    if command.status != CommandStatus.ANSWERED:
        # Still held at the charger as far as anyone knows: it may be cancelled again.
        reservation.cancel_requested_at = None
        _set_detail(reservation, texts.CANCEL_FAILED(why=_not_answered(command)))
        reservation.save(update_fields=["cancel_requested_at", "detail", "detail_text"])
        _changed(reservation)
        return
    if readers.reply_status(command.response) == ACCEPTED:
        _close(reservation, ReservationStatus.CANCELLED, texts.CANCELLED())
    else:
        # The charger holds no such reservation (it ended it itself): it is over all the same.
        _close(reservation, ReservationStatus.CANCELLED, texts.NO_LONGER_HELD())


@transaction.atomic
def reservation_command_finished(*, command_id: int) -> None:
    """A reservation command's outcome was recorded: the reservation it was for moves on."""
    reservation = _locked(command_id=command_id)
    if reservation is not None:
        _reserve_outcome(reservation, Command.objects.get(pk=command_id))
        return
    reservation = _locked(cancel_command_id=command_id)
    if reservation is not None:
        _cancel_outcome(reservation, Command.objects.get(pk=command_id))


@transaction.atomic
def reservation_cancel(
    *, reservation: Reservation, cancelled_by: User | None = None
) -> Reservation:
    """Cancel an open reservation. One not sent to its charger yet is closed at once; one the
    charger holds is cancelled there (a task sends CancelReservation once this is committed)
    and its reply closes the record; one the charger has not answered yet is cancelled there
    as soon as it accepts (`_reserve_outcome`)."""
    locked = _locked(pk=reservation.pk)
    if locked is None or locked.status not in OPEN:
        state = locked.get_status_display().lower() if locked else gettext("gone")
        raise ValidationError(
            gettext("Only an open reservation can be cancelled; this one is %(state)s.")
            % {"state": state}
        )
    if locked.cancel_requested_at is not None:
        raise ValidationError(gettext("This reservation is being cancelled already."))
    before = audit.snapshot(locked, ["status", "cancel_requested_at", "cancelled_by"])
    if locked.status == ReservationStatus.REQUESTED and locked.sent_at is None:
        # `reservation_send` reads the status under the same lock: it will not go out now.
        _close(
            locked,
            ReservationStatus.CANCELLED,
            texts.CANCELLED_UNSENT(),
            cancelled_by=cancelled_by,
        )
        audit.changed(locked, ObjectType.RESERVATION, before=before, action=Verb.CANCEL)
        return locked
    locked.cancel_requested_at = timezone.now()
    locked.cancelled_by = cancelled_by
    _set_detail(locked, "")
    locked.save(update_fields=["cancel_requested_at", "cancelled_by", "detail", "detail_text"])
    audit.changed(locked, ObjectType.RESERVATION, before=before, action=Verb.CANCEL)
    if locked.status == ReservationStatus.ACCEPTED:
        _queue_cancellation(locked)
    return locked


def _queue_cancellation(reservation: Reservation) -> None:
    from chargers.reservations.tasks import send_cancellation

    tenant_id, pk = reservation.tenant_id, reservation.pk
    transaction.on_commit(lambda: send_cancellation.delay(tenant_id=tenant_id, reservation_id=pk))


def reservation_send_cancellation(*, reservation_id: int) -> Command | None:
    """Send CancelReservation for a reservation whose cancellation was asked; once."""
    with transaction.atomic():
        reservation = _locked(pk=reservation_id)
        if reservation is None or reservation.status not in OPEN:
            return None
        if reservation.cancel_requested_at is None or reservation.cancel_command_id is not None:
            return None
        charger, ocpp_id, who = reservation.charger, reservation.ocpp_id, reservation.cancelled_by
    built = builders.cancel_reservation(charger, reservation_id=ocpp_id)
    command = builders.perform(charger, built, wait=False, requested_by=who, source=SOURCE)
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation_id)
        reservation.cancel_command = command
        reservation.save(update_fields=["cancel_command"])
        command.refresh_from_db()
        if command.status not in UNFINISHED:
            _cancel_outcome(reservation, command)
    return command


def reservation_ended_by_charger(*, charger_id: int, reservation_id: int, ended: str) -> None:
    """The charger ended a reservation itself (2.0.1 ReservationStatusUpdate): `ended` is
    "expired" or "removed" (its connector can no longer be used). Nothing for an unknown id."""
    with transaction.atomic():
        reservation = _locked(charger_id=charger_id, ocpp_id=reservation_id, status__in=OPEN)
        if reservation is None:
            return
        if ended == "expired":
            _close(reservation, ReservationStatus.EXPIRED, texts.EXPIRED_AT_CHARGER())
        else:
            _close(reservation, ReservationStatus.CANCELLED, texts.REMOVED())


def _token_fits(reservation: Reservation, session: ChargingSession) -> bool:
    """Whether the session's token may use the reservation: the reserved token itself, or a
    token of the group the reservation was sent with."""
    token = session.id_token
    if token is None:
        return bool(session.id_tag) and session.id_tag.upper() == reservation.id_tag.upper()
    if token.pk == reservation.id_token_id or token.uid.upper() == reservation.id_tag.upper():
        return True
    group = token.group.uid.upper() if token.group else ""
    return bool(reservation.group_id_tag) and group == reservation.group_id_tag.upper()


def _used_by(reservation: Reservation, session: ChargingSession) -> bool:
    if session.reservation_id is not None:
        return session.reservation_id == reservation.ocpp_id
    if reservation.evse_id is not None and reservation.evse_id != session.evse_id:
        return False
    # A session begun while the reservation held, by its token: the charger let it in.
    began = reservation.created_at <= session.started_at <= reservation.expires_at
    return began and _token_fits(reservation, session)


@transaction.atomic
def reservation_use(*, session_id: int) -> Reservation | None:
    """A session started on a charger with an open reservation: the reservation it names
    (reservationId), or else the one its token holds on its connector, is used by it."""
    session = (
        ChargingSession.objects.select_related("id_token__group").filter(pk=session_id).first()
    )
    if session is None:
        return None
    candidates = (
        Reservation.objects.select_for_update()
        .filter(charger_id=session.charger_id, status__in=OPEN)
        .order_by("created_at", "id")
    )
    for reservation in candidates:
        if _used_by(reservation, session):
            _close(reservation, ReservationStatus.USED, "", session=session)
            return reservation
    return None


def reservations_close_expired(*, now: datetime | None = None) -> int:
    """Close the open reservations past their expiry (in the caller's scope): used, when a
    session by their token started on their connector meanwhile (its news was lost), else
    expired. Returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    due = Reservation.objects.filter(status__in=OPEN, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            reservation = _locked(pk=pk, status__in=OPEN)
            if reservation is None:
                continue
            sessions = ChargingSession.objects.select_related("id_token__group").filter(
                charger_id=reservation.charger_id,
                started_at__gte=reservation.created_at,
                started_at__lte=reservation.expires_at,
            )
            used = next((s for s in sessions if _used_by(reservation, s)), None)
            if used is not None:
                _close(reservation, ReservationStatus.USED, "", session=used)
            else:
                _close(reservation, ReservationStatus.EXPIRED, texts.EXPIRED_UNUSED())
            closed += 1
    return closed


# The demo: connector 2 of the mall's first charger held for a driver, for a few hours.
DEMO_CHARGER, DEMO_EVSE, DEMO_TOKEN, DEMO_HOURS = "DEMO-0001", 2, "04A1B2C3D4", 4


@transaction.atomic
def reservation_demo_seed(*, now: datetime | None = None) -> Reservation | None:
    """The demo's reservation (idempotent: one open at a time, in the caller's scope). The
    simulated charger starts afresh with each demo and forgets what it held, so an open one
    from a previous run is closed and a new one waits for the charger to connect (the tick,
    or its boot, sends it)."""
    now = now or timezone.now()
    charger = Charger.objects.filter(identity=DEMO_CHARGER).first()
    if charger is None:
        return None
    for stale in Reservation.objects.select_for_update().filter(charger=charger, status__in=OPEN):
        _close(stale, ReservationStatus.CANCELLED, texts.RESEEDED())
    return reservation_create(
        charger=charger,
        evse_id=DEMO_EVSE,
        id_tag=DEMO_TOKEN,
        expires_at=now + timedelta(hours=DEMO_HOURS),
        when_online=True,
        now=now,
    )
