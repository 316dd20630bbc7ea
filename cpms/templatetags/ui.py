"""The page frame's helpers: which navigation section a page belongs to, a role's name."""

from django import template
from django.utils.translation import gettext_lazy as _

from cpms.texts import capitalized, localized

register = template.Library()

# Route names by the navigation entry they belong to (the first match wins).
SECTIONS = (
    ("site_owners", ("site_owner_",)),
    ("sites", ("site_", "load_")),
    ("chargers", ("charger_", "command_")),
    ("sessions", ("session_",)),
    ("alerts", ("alert_",)),
    ("firmware", ("firmware_",)),
    ("reservations", ("reservation_",)),
    ("configuration", ("config_",)),
    ("certificates", ("certificate_",)),
    ("id_tokens", ("id_token_",)),
    ("tariffs", ("tariff_", "cdr_")),
    ("invoices", ("invoice_",)),
    ("customers", ("customer_",)),
    ("statements", ("statement_",)),
    ("members", ("member_",)),
    ("api_keys", ("api_key_",)),
    ("settings", ("tenant_settings", "fleet_settings", "billing_settings")),
    ("overview", ("tenant_overview",)),
    ("portal_statements", ("portal_statements",)),
    ("portal", ("portal_",)),
    ("platform", ("platform",)),
)


@register.simple_tag(takes_context=True)
def nav_section(context) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = (match.url_name if match else "") or ""
    for section, prefixes in SECTIONS:
        if name.startswith(prefixes):
            return section
    return ""


# The roles as the page frame names them under the person's address.
ROLE_NAMES = {
    "admin": _("Admin"),
    "operator": _("Operator"),
    "viewer": _("Viewer"),
    "portal": _("Portal"),
}


@register.simple_tag
def role_label(role) -> str:
    return str(ROLE_NAMES.get(role, str(role).capitalize()))


@register.filter
def text(stored, plain: str = "") -> str:
    """`{{ alert.title_text|text:alert.title }}`: a stored text in the reader's language, or
    the plain column for a row written before texts had codes."""
    return localized(stored, plain)


@register.filter
def label(value) -> str:
    """A state badge's label with its first letter in capitals (`cpms.texts.capitalized`)."""
    return capitalized(value)
