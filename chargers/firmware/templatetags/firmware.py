"""The firmware domain's part of other pages: a charger's latest update and its diagnostics on
its page."""

from collections.abc import Mapping

from django import template
from django.utils.translation import pgettext_lazy

from chargers.firmware import access
from chargers.firmware.models import CampaignTarget, DiagnosticsRequest, TargetState, WaveState
from chargers.models import Charger
from cpms.tenancy.access import role_at_least

register = template.Library()


@register.inclusion_tag("firmware/_charger_section.html", takes_context=True)
def charger_diagnostics(context, charger: Charger) -> dict:
    request = context["request"]
    return {
        "tenant": context["tenant"],
        "charger": charger,
        "requests": DiagnosticsRequest.objects.filter(charger=charger).select_related(
            "requested_by"
        )[:5],
        "can_request": role_at_least(request, access.REQUEST_DIAGNOSTICS),
        # The charger's latest firmware update in a campaign, if any.
        "update": CampaignTarget.objects.filter(charger=charger)
        .select_related("campaign__image")
        .order_by("-id")
        .first(),
        "csrf_token": context.get("csrf_token"),
    }


# The state badges' colours (the app's classes) for the firmware domain's states.
TONES = {
    "available": ("succeeded", "done", "completed", "uploaded"),
    "faulted": ("failed", "halted"),
    "pending": ("pending", "deferred", "paused", "draft", "requested"),
    "offline": ("skipped", "cancelled"),
}
TONE_OF = {state: tone for tone, states in TONES.items() for state in states}


@register.filter
def tone(state: str) -> str:
    """The badge class of a campaign, wave, charger or diagnostics state: `state-<tone>`."""
    return f"state-{TONE_OF.get(str(state), 'charging')}"


@register.filter
def wave_state(state: str) -> str:
    """A wave's state as people read it."""
    return str(WaveState(state).label)


@register.filter
def by_state(counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """Counts of chargers by state as (state, label, count), in the order an update goes and
    named as the chargers' table and its filter name them."""
    return [
        (state, str(label), counts[state])
        for state, label in TargetState.choices
        if counts.get(state)
    ]


# The campaign's buttons, by the action they post.
ACTION_LABELS = {
    "start": pgettext_lazy("campaign action", "Start"),
    "pause": pgettext_lazy("campaign action", "Pause"),
    "resume": pgettext_lazy("campaign action", "Resume"),
    "cancel": pgettext_lazy("campaign action", "Cancel"),
}


@register.filter
def campaign_action(action: str) -> str:
    """A campaign action's button as people read it."""
    return str(ACTION_LABELS.get(str(action), str(action).capitalize()))
