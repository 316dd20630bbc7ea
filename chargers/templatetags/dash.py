"""Units and times as the dashboards show them; the live script formats the same way.

Figures and dates follow the reader's language (`1,234.50 kWh` in English, `1.234,50 kWh` in
German); values a script or a chart reads are written by `json_script` or `|unlocalize`, never
through these filters.
"""

from decimal import Decimal

from django import template
from django.utils import dateformat, formats, timezone
from django.utils.html import json_script
from django.utils.translation import gettext_lazy as _

from chargers.integrity import FLAGS, session_flags
from chargers.metering import local_time
from chargers.texts import stop_reason_shown
from cpms.languages import date_pattern, figure
from cpms.tenancy.access import role_at_least
from cpms.texts import capitalized

register = template.Library()


@register.filter
def kwh(wh) -> str:
    """Wh as kWh with two decimals: 12345 -> '12.35 kWh' ('12,35 kWh' in German)."""
    if wh is None or wh == "":
        return "—"
    return f"{figure(Decimal(wh) / 1000)} kWh"


@register.filter
def kw(watts) -> str:
    if watts is None or watts == "":
        return "—"
    return f"{figure(Decimal(watts) / 1000)} kW"


@register.filter
def local(moment, tz) -> str:
    """A stored UTC time in the site's (or tenant's) zone, with the zone's abbreviation; in
    UTC when the zone's time would be past year 9999 or before year 1 (`local_time`)."""
    if moment is None:
        return "—"
    return dateformat.format(local_time(moment, tz), f"{date_pattern()} H:i:s T")


@register.filter
def stamp(moment, precision: str = "minutes") -> str:
    """A time in the page's zone (the tenant's), to the minute or `"seconds"`, in the reader's
    date order."""
    if moment is None or moment == "":
        return ""
    clock = "H:i:s" if precision == "seconds" else "H:i"
    return dateformat.format(timezone.localtime(moment), f"{date_pattern()} {clock} T")


# A charger's state (chargers.selectors.fleet.State) as the tables write it, in lower case.
STATE_WORDS = {
    "available": _("available"),
    "charging": _("charging"),
    "faulted": _("faulted"),
    "offline": _("offline"),
    "online": _("online"),
    "unavailable": _("unavailable"),
    "pending": _("pending"),
}


@register.filter
def state_label(state) -> str:
    return str(STATE_WORDS.get(state, state))


def live_labels() -> dict:
    """The words the live script writes into pages, in the reader's language."""
    return {
        "status": {
            "connecting": _("Connecting…"),
            "live": _("Live"),
            "reconnecting": _("Reconnecting…"),
        },
        # Badges: capitalised here, as the pages' are (`cpms.texts.capitalized`).
        "states": {key: capitalized(word) for key, word in STATE_WORDS.items()},
        "session": {"active": _("Charging"), "stopped": _("Stopped")},
        "connector": _("Connector %(evse)s"),
        "charger": _("a charger"),
        "unknown_charger": _("an unknown charger"),
        "events": {
            "connector": _("%(who)s connector %(evse)s"),
            "charger.online": _("%(who)s connected"),
            "charger.offline": _("%(who)s went offline"),
            "charger.boot": _("%(who)s booted"),
            "session.started": _("%(where)s: session started"),
            "session.started_for": _("%(where)s: session started for %(token)s"),
            "session.stopped": _("%(where)s: session stopped at %(energy)s"),
            "alert.opened": _("Alert opened: %(title)s"),
            "alert.resolved": _("Alert resolved: %(title)s"),
            "reservation.changed": _("%(where)s: reservation %(status)s"),
            "handshake.refused": _("Connection refused for %(who)s: %(reason)s"),
        },
        "commands": {
            "answered": _("answered"),
            "call_error": _("answered with an error"),
            "timeout": _("no reply in time"),
            "offline": _("not sent: the charger is offline"),
            "refused": _("refused before sending"),
        },
        "reservations": {
            "requested": _("Requested"),
            "accepted": _("Accepted by the charger"),
            "rejected": _("Rejected"),
            "cancelled": _("Cancelled"),
            "expired": _("Expired"),
            "used": _("Used by a session"),
        },
        "date": date_pattern(),
        "decimal": formats.get_format("DECIMAL_SEPARATOR"),
    }


@register.simple_tag
def live_script_labels() -> str:
    """The live script's words as JSON in a script element (`json_script`'s escaping)."""
    return json_script(live_labels(), "live-labels")


@register.filter
def duration(session) -> str:
    end = session.stopped_at or timezone.now()
    minutes = int((end - session.started_at).total_seconds() // 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)s min") % {
        "hours": minutes // 60,
        "minutes": f"{minutes % 60:02d}",
    }


@register.filter
def stop_reason(reason: str) -> str:
    """A session's stop reason in the reader's language (`chargers.texts`)."""
    return stop_reason_shown(reason)


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
