"""Billing's events: a charge detail record was issued (a first one, or the next version of a
corrected session's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Self

from billing.pricing import from_minor
from cpms.events import DomainEvent, only_when_set

if TYPE_CHECKING:
    from billing.models import ChargeDetailRecord


@dataclass(frozen=True, kw_only=True)
class CdrIssued(DomainEvent):
    name = "cdr.issued"
    webhook = "cdr.issued"

    cdr_id: int
    # A record prices a session, or a reservation that expired unused.
    session_id: int | None = only_when_set()
    reservation_id: int | None = only_when_set()
    charger_id: int
    version: int
    supersedes: int | None = only_when_set()
    currency: str
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    total_energy: Decimal
    start_date_time: datetime
    end_date_time: datetime
    issued_at: datetime

    @classmethod
    def of(cls, cdr: ChargeDetailRecord) -> Self:
        return cls(
            tenant_id=cdr.tenant_id,
            cdr_id=cdr.pk,
            session_id=cdr.session_id,
            reservation_id=cdr.reservation_id,
            charger_id=cdr.charger_id,
            version=cdr.version,
            supersedes=cdr.supersedes_id,
            currency=cdr.currency,
            total_excl_vat=from_minor(cdr.total_excl_vat_minor, cdr.currency),
            total_incl_vat=from_minor(cdr.total_incl_vat_minor, cdr.currency),
            total_energy=Decimal(cdr.total_energy),
            start_date_time=cdr.start_date_time,
            end_date_time=cdr.end_date_time,
            issued_at=cdr.issued_at,
        )


@dataclass(frozen=True, kw_only=True)
class SessionCostUpdated(DomainEvent):
    """A running session's cost so far, as its charger was just sent it: for the live session
    page (not a webhook; the record is the figure integrators build on)."""

    name = "session.cost"

    session_id: int
    charger_id: int
    currency: str
    total_incl_vat: Decimal
    text: str  # formatted for the dashboard, as its money filter writes it
