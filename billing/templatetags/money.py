"""Billing's template helpers: amounts with their currency, a session's records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from django import template

from billing.models import ChargeDetailRecord, RunningCost
from billing.pricing import from_minor

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str) -> str:
    """12.00 EUR as €12.00 (English formatting, the dashboard's language)."""
    if amount is None:
        return "—"
    return format_currency(Decimal(str(amount)), currency, locale="en")


@register.filter
def minor(amount: int, currency: str) -> str:
    """An amount in minor units, formatted."""
    return money(from_minor(amount, currency), currency)


@register.filter
def span(seconds: Any) -> str:
    """A duration as '2 h 10 min'."""
    minutes = round(float(seconds) / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


@register.filter
def between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


@register.simple_tag
def session_records(session: Any) -> list[ChargeDetailRecord]:
    """The session's charge detail records, newest version first (in the page's scope)."""
    return list(
        ChargeDetailRecord.objects.filter(session=session)
        .select_related("tariff", "tariff_version")
        .order_by("-version")
    )


@register.simple_tag
def session_running_cost(session: Any) -> RunningCost | None:
    """The cost a running session's charger was last sent (in the page's scope), if any."""
    return RunningCost.objects.filter(session=session).first()
