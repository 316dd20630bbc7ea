"""The arithmetic of invoices, with no database: which month, and a month's totals from its
priced sessions. An invoice's totals are the sums of its records' totals, each already rounded
by the pricing rule, so invoices reconcile with the records to the cent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Month:
    first_day: date
    last_day: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive


def month(year: int, number: int, tz: tzinfo) -> Month:
    """A calendar month in the tenant's time zone, and its bounds in UTC."""
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    start = datetime.combine(first, time(0), tz).astimezone(UTC)
    end = datetime.combine(following, time(0), tz).astimezone(UTC)
    return Month(first, date.fromordinal(following.toordinal() - 1), start, end)


def previous_month(now: datetime, tz: tzinfo) -> Month:
    local = now.astimezone(tz).date()
    year, number = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return month(year, number, tz)


def vat_breakdown(records: Iterable[Mapping[str, Any]], sign: int = 1) -> list[dict[str, Any]]:
    """The VAT per rate of several records, from each record's own VAT groups (rounded per
    group when it was priced), plus what min/max price bounds changed, as `"vat": "bounds"`."""
    bases: dict[str | None, Decimal] = {}
    amounts: dict[str | None, Decimal] = {}
    for record in records:
        for group in record["vat_groups"]:
            rate = group["vat"]
            bases[rate] = bases.get(rate, Decimal(0)) + sign * Decimal(group["base"])
            amounts[rate] = amounts.get(rate, Decimal(0)) + sign * Decimal(group["amount"])
        adjustment = record.get("adjustment") or {}
        if adjustment:
            excl, incl = Decimal(adjustment["excl_vat"]), Decimal(adjustment["incl_vat"])
            bases["bounds"] = bases.get("bounds", Decimal(0)) + sign * excl
            amounts["bounds"] = amounts.get("bounds", Decimal(0)) + sign * (incl - excl)
    return [
        {"vat": rate, "base": str(bases[rate]), "amount": str(amounts[rate])}
        for rate in sorted(bases, key=lambda r: (r is None, r == "bounds", _rate_key(r)))
    ]


def _rate_key(rate: str | None) -> Decimal:
    try:
        return Decimal(rate or 0)
    except ArithmeticError:
        return Decimal(0)


@dataclass(frozen=True)
class SiteSettlement:
    site_id: int
    name: str
    sessions: int
    energy_kwh: Decimal
    revenue_minor: int
    share_percent: Decimal
    share_minor: int
    fee_minor: int


def settle_site(
    *,
    site_id: int,
    name: str,
    revenues_minor: list[int],
    energy_kwh: Decimal,
    share_percent: Decimal,
    fee_minor: int,
) -> SiteSettlement:
    """A site's month: its records' revenues (excluding VAT, minor units) summed, the owner's
    share of the sum rounded half up once, the month's fee withheld in full."""
    revenue = sum(revenues_minor)
    share = share_of(revenue, share_percent)
    return SiteSettlement(
        site_id, name, len(revenues_minor), energy_kwh, revenue, share_percent, share, fee_minor
    )


def share_of(revenue_minor: int, share_percent: Decimal) -> int:
    """The owner's share of a revenue (or of a correction's difference, which may be
    negative), rounded half up (away from zero) once."""
    return int((Decimal(revenue_minor) * share_percent / 100).quantize(Decimal(1), ROUND_HALF_UP))
