"""The local lists' part of other pages: a charger's list on its page."""

from django import template

from chargers.local_lists import access, selectors
from chargers.models import Charger
from cpms.tenancy.access import role_at_least

register = template.Library()


@register.inclusion_tag("local_lists/_charger_section.html", takes_context=True)
def charger_local_list(context, charger: Charger) -> dict:
    return {
        "tenant": context["tenant"],
        "charger": charger,
        "listed": selectors.list_state(charger),
        "can_sync": role_at_least(context["request"], access.SYNC),
        "csrf_token": context.get("csrf_token"),
    }
