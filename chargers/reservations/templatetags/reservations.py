"""The reservation domain's part of a charger's page: its active reservations, a cancel button
each and the reserve form, for those who may."""

from django import template

from chargers.models import Charger
from chargers.reservations import access, selectors
from chargers.reservations.forms import ReservationForm
from cpms.tenancy.access import role_at_least

register = template.Library()


@register.inclusion_tag("reservations/_charger_section.html", takes_context=True)
def charger_reservations(context, charger: Charger) -> dict:
    can_manage = role_at_least(context["request"], access.MANAGE_RESERVATIONS)
    return {
        "tenant": context["tenant"],
        "charger": charger,
        "reservations": list(selectors.active_on(charger)),
        "can_manage": can_manage,
        "form": ReservationForm(charger=charger) if can_manage else None,
        "tz": context.get("tz"),
        "csrf_token": context.get("csrf_token"),
    }


# The state badges' colours (the app's classes) for reservation statuses.
TONES = {
    "requested": "pending",
    "accepted": "available",
    "used": "available",
    "rejected": "faulted",
    "cancelled": "offline",
    "expired": "offline",
}


@register.filter
def reservation_tone(status: str) -> str:
    return f"state-{TONES.get(str(status), 'charging')}"
