"""Reads of reservations for pages, the API and the beat tick."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from chargers.models import Charger
from chargers.reservations.models import OPEN, Reservation, ReservationStatus
from chargers.reservations.services import MIN_AHEAD


def reservations() -> QuerySet[Reservation]:
    return Reservation.objects.select_related("charger", "created_by", "session")


def active(queryset: QuerySet[Reservation] | None = None) -> QuerySet[Reservation]:
    """Reservations that hold (or are about to hold) their connector now."""
    queryset = reservations() if queryset is None else queryset
    return queryset.filter(status__in=OPEN, expires_at__gt=timezone.now())


def active_on(charger: Charger) -> QuerySet[Reservation]:
    return active().filter(charger=charger).order_by("expires_at", "id")


def waiting_to_be_sent() -> list[int]:
    """Requested reservations not sent yet whose charger is online now (in the caller's
    scope): those made for a charger to take when it connects, and any whose sending task
    was lost (after a grace period for it to run)."""
    return list(
        Reservation.objects.filter(
            status=ReservationStatus.REQUESTED,
            sent_at__isnull=True,
            charger__is_online=True,
            created_at__lte=timezone.now() - MIN_AHEAD / 2,
        ).values_list("pk", flat=True)
    )


def any_waiting() -> bool:
    return Reservation.objects.filter(
        status=ReservationStatus.REQUESTED, sent_at__isnull=True
    ).exists()


def waiting_on(charger_id: int) -> list[int]:
    return list(
        Reservation.objects.filter(
            charger_id=charger_id, status=ReservationStatus.REQUESTED, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )


def chargers_with_open() -> frozenset[int]:
    """The chargers of the tenant in scope with a reservation a session could use."""
    rows = Reservation.objects.filter(status__in=OPEN).values_list("charger_id", flat=True)
    return frozenset(rows.distinct())
