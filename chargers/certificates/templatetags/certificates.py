"""The certificates domain's part of other pages: a charger's certificate on its page."""

from django import template

from chargers.certificates import selectors
from chargers.models import Charger

register = template.Library()


@register.inclusion_tag("certificates/_charger_section.html", takes_context=True)
def charger_certificate(context, charger: Charger) -> dict:
    return {
        "tenant": context["tenant"],
        "charger": charger,
        "pki": selectors.charger_certificates(charger),
    }


TONES = {
    "installed": "available",
    "done": "available",
    "accepted": "pending",
    "sent": "pending",
    "rejected": "faulted",
    "refused": "faulted",
    "failed": "faulted",
    "superseded": "offline",
}


@register.filter
def pki_tone(state: str) -> str:
    return f"state-{TONES.get(str(state), 'charging')}"
