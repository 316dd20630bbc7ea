"""The reservation domain's event: a reservation changed status. A webhook event too (the
fields are its `data`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Self

from cpms.events import DomainEvent, only_when_set

if TYPE_CHECKING:
    from chargers.reservations.models import Reservation


@dataclass(frozen=True, kw_only=True)
class ReservationChanged(DomainEvent):
    """A reservation was requested, accepted or rejected by its charger, cancelled, expired,
    or used by a session (then with `session_id`)."""

    name = "reservation.changed"
    webhook = "reservation.state"

    reservation_id: int
    charger_id: int
    evse_id: int | None
    id_tag: str
    status: str
    charger_status: str
    detail: str
    expires_at: datetime
    session_id: int | None = only_when_set()

    @classmethod
    def of(cls, reservation: Reservation) -> Self:
        return cls(
            tenant_id=reservation.tenant_id,
            reservation_id=reservation.pk,
            charger_id=reservation.charger_id,
            evse_id=reservation.evse_id,
            id_tag=reservation.id_tag,
            status=str(reservation.status),
            charger_status=reservation.charger_status,
            detail=reservation.detail,
            expires_at=reservation.expires_at,
            session_id=reservation.session_id,
        )
