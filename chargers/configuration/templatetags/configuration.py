"""The configuration domain's part of other pages: a charger's desired settings and drift on
its page, counts for the lists, and the badges of apply results."""

from collections import Counter

from django import template

from chargers.configuration import access, selectors
from chargers.configuration.models import ApplyRun, ConfigTemplate, Drift, ResultState
from chargers.models import Charger
from cpms.tenancy.access import role_at_least

register = template.Library()


@register.inclusion_tag("configuration/_charger_section.html", takes_context=True)
def charger_configuration(context, charger: Charger) -> dict:
    rows, read = selectors.charger_configuration(charger)
    sources = {row.template for row in rows}
    return {
        "tenant": context["tenant"],
        "charger": charger,
        "rows": rows,
        "read": read,
        "drift_count": sum(row.drift for row in rows),
        "templates": [t for t in selectors.templates_for(charger) if t.pk in sources],
        "can_apply": role_at_least(context["request"], access.APPLY),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def drifting_chargers(config_template: ConfigTemplate) -> int:
    """How many chargers drift from this template's settings."""
    return Drift.objects.filter(template=config_template).values("charger_id").distinct().count()


@register.simple_tag
def run_counts(run: ApplyRun) -> list[tuple[str, int]]:
    counted = Counter(result.state for result in run.results.all())
    return [(ResultState(state).label.lower(), n) for state, n in sorted(counted.items())]


TONES = {
    "available": ("accepted", "done"),
    "faulted": ("rejected", "not_supported", "failed", "timed_out"),
    "pending": ("pending", "sent", "running", "reboot_required"),
    "offline": ("offline", "nothing"),
}
TONE_OF = {state: tone for tone, states in TONES.items() for state in states}


@register.filter
def result_tone(state: str) -> str:
    return f"state-{TONE_OF.get(str(state), 'charging')}"


@register.filter
def result_label(state: str) -> str:
    try:
        return str(ResultState(state).label)
    except ValueError:
        return str(state)
