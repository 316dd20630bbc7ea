"""Billing's template helpers: amounts with their currency, a session's records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import dateformat
from django.utils.translation import gettext

from billing.display import format_money, format_number
from billing.models import ChargeDetailRecord, RunningCost
from billing.pricing import from_minor
from cpms.languages import date_pattern

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str) -> str:
    """12.00 EUR as the reader's language writes it: €12.00 in English, 12,00 € in German."""
    if amount is None:
        return "—"
    return format_money(amount, currency)


@register.filter
def minor(amount: int, currency: str) -> str:
    """An amount in minor units, formatted."""
    return money(from_minor(amount, currency), currency)


@register.filter
def day(value: date | None) -> str:
    """A day in the reader's date order: 2026-03-31 in English, 31.03.2026 in German."""
    if value is None:
        return "—"
    return dateformat.format(value, date_pattern())


@register.filter
def number(value: Decimal | str | None) -> str:
    """A decimal stored as text (a document's rows) in the reader's number format."""
    if value is None or value == "":
        return "—"
    return format_number(value)


@register.filter
def span(seconds: Any) -> str:
    """A duration as '2 h 10 min'."""
    minutes = round(float(seconds) / 60)
    hours, rest = divmod(minutes, 60)
    if hours:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    return gettext("%(minutes)d min") % {"minutes": rest}


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
