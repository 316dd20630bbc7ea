"""Smart charging's part of other pages: a charger's charging limits on its page, and what
its EV said it needs on a session's."""

from django import template

from chargers.models import Charger, ChargingSession
from chargers.smart_charging import charger_view
from chargers.smart_charging.models import Sharing

register = template.Library()


@register.inclusion_tag("smart_charging/_charger_section.html", takes_context=True)
def charger_charging_limits(context, charger: Charger) -> dict:
    report, profiles = charger_view.profiles_beside_sent(charger)
    needs, schedules = charger_view.ev_records(charger)
    return {
        "tenant": context["tenant"],
        "tz": context["tz"],
        "charger": charger,
        "composites": charger_view.latest_composites(charger),
        "report": report,
        "profiles": profiles,
        "ev_needs": needs,
        "ev_schedules": schedules,
    }


@register.inclusion_tag("smart_charging/_session_ev_needs.html", takes_context=True)
def session_ev_needs(context, session: ChargingSession) -> dict:
    return {"tz": context["tz"], "ev_needs": charger_view.session_ev_needs(session)}


@register.filter
def sharing_label(value: str) -> str:
    """How a plan shares the current (a `Sharing` value, as its inputs keep it), in words."""
    try:
        return str(Sharing(value).label)
    except ValueError:
        return str(value)
