"""Units and times as the dashboards show them; the live script formats the same way."""

from decimal import Decimal

from django import template
from django.utils import timezone

from chargers.integrity import FLAGS, session_flags
from chargers.metering import local_time
from cpms.tenancy.access import role_at_least

register = template.Library()


@register.filter
def kwh(wh) -> str:
    """Wh as kWh with two decimals: 12345 -> '12.35 kWh'."""
    if wh is None or wh == "":
        return "—"
    return f"{Decimal(wh) / 1000:,.2f} kWh"


@register.filter
def kw(watts) -> str:
    if watts is None or watts == "":
        return "—"
    return f"{Decimal(watts) / 1000:,.2f} kW"


@register.filter
def local(moment, tz) -> str:
    """A stored UTC time in the site's (or tenant's) zone, with the zone's abbreviation; in
    UTC when the zone's time would be past year 9999 or before year 1 (`local_time`)."""
    if moment is None:
        return "—"
    moment = local_time(moment, tz)
    # %Y is not zero-padded below year 1000 on every platform.
    return f"{moment.year:04d}-" + moment.strftime("%m-%d %H:%M:%S %Z")


@register.filter
def duration(session) -> str:
    end = session.stopped_at or timezone.now()
    minutes = int((end - session.started_at).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@register.simple_tag(takes_context=True)
def open_alert_count(context) -> int:
    """The navigation's badge; only operators' pages show it."""
    request = context.get("request")
    if request is None or getattr(request, "tenant", None) is None:
        return 0
    if not role_at_least(request, "viewer"):
        return 0
    from chargers.alerts.models import Alert

    return Alert.objects.filter(resolved_at__isnull=True).count()


@register.filter
def sum_of(values) -> float:
    """The sum of a chart series, to tell an empty chart from one worth drawing."""
    return sum(v or 0 for v in values or [])


@register.filter
def any_known(values) -> bool:
    return any(v is not None for v in values or [])


@register.filter
def integrity_flags(session) -> list:
    """The session's integrity flags (`chargers.integrity`) with their labels and explanations."""
    return [FLAGS[name] for name in session_flags(session)]
