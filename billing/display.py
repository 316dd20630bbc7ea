"""What the charger shows its driver: the price that applies to their token, and the cost of
their session so far. Registered with `chargers.costs` (billing's AppConfig.ready), read on
the chargers' answer path: database reads only, in the charger's tenant scope."""

from __future__ import annotations

from decimal import Decimal

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django.utils import formats, timezone, translation

from billing import listeners, pricing, selectors
from chargers.costs import Cost, PriceText
from chargers.models import Charger, ChargingSession, IdToken
from cpms.tenancy import scoping

# How each dimension's unit price reads on a screen.
UNITS = {"ENERGY": "/kWh", "TIME": "/h", "PARKING_TIME": "/h parking", "FLAT": " per session"}


def babel_locale(language: str | None = None) -> str:
    """The CLDR locale of a Django language code ("de", "pt-br"), the active language's by
    default; English for a code CLDR does not know."""
    code = translation.to_locale(language or translation.get_language() or "en")
    try:
        return str(Locale.parse(code))
    except (ValueError, UnknownLocaleError):
        return "en"


def format_money(amount: Decimal | int | str, currency: str, language: str | None = None) -> str:
    """An amount with its currency as the reader's language writes it: €1,234.50 in English,
    1.234,50 € in German, 1 234,50 € in French (the currency's own minor units, CLDR's
    symbols and spacing, through Babel, which pricing already depends on)."""
    return format_currency(Decimal(str(amount)), currency, locale=babel_locale(language))


def format_number(value: Decimal | int | float | str) -> str:
    """A decimal stored as text (a document's energy, a share in percent) as the page writes
    numbers in the active language (Django's formats, like every other number on the page),
    with every digit it was stored with: 1234.5 in English, 1234,5 in German."""
    return formats.number_format(Decimal(str(value)), use_l10n=True)


def _incl_vat(component: pricing.PriceComponent) -> Decimal:
    return component.price * (1 + (component.vat or Decimal(0)) / 100)


def describe(tariff: pricing.Tariff, locale: str = "en") -> str:
    """`tariff`'s unit prices including VAT, the first element's of each dimension (the
    element that prices it when no restriction rules it out): "0.42 €/kWh, 2.00 €/h"."""
    seen: dict[str, Decimal] = {}
    for element in tariff.elements:
        for component in element.price_components:
            seen.setdefault(component.type, _incl_vat(component))
    parts = [
        format_currency(seen[kind], tariff.currency, locale=locale) + unit
        for kind, unit in UNITS.items()
        if kind in seen
    ]
    text = ", ".join(parts) or format_currency(0, tariff.currency, locale=locale)
    if tariff.parking_grace_seconds and "PARKING_TIME" in seen:
        text += f" (parking after {tariff.parking_grace_seconds // 60} min)"
    return text + " incl. VAT"


def _assigns_no_tariff() -> bool:
    """Whether the scope's tenant assigns no tariff anywhere (`listeners.prices_nothing`, a
    memo). The screens' texts are asked at each accepted token and each ended session; a fleet
    that does not bill then reads nothing. Only these texts take the shortcut: records are
    always priced from the tariffs themselves."""
    tenant = scoping.current_tenant()
    return tenant is not None and listeners.prices_nothing(tenant.pk)


def price_text(*, charger_id: int, evse_id: int | None, token: IdToken) -> PriceText | None:
    """The price the token's driver pays at this charger now, or None (no tariff applies)."""
    if _assigns_no_tariff():
        return None
    site_id = Charger.objects.filter(pk=charger_id).values_list("site_id", flat=True).first()
    chosen = selectors.tariff_for(
        site_id=site_id,
        charger_id=charger_id,
        evse_id=evse_id or 1,
        connector_id=1,
        token=token,
        at=timezone.now(),
    )
    if chosen is None:
        return None
    return PriceText(describe(selectors.terms(chosen.version)))


def session_cost(*, session_id: int) -> Cost | None:
    """The session's cost including VAT: so far while it runs, its total once it stopped;
    None where no tariff applies. Priced like its record will be (the same function, periods
    and tariff version), so the total a charger shows is the record's."""
    if _assigns_no_tariff():
        return None
    session = ChargingSession.objects.select_related("site", "id_token").get(pk=session_id)
    chosen = selectors.tariff_of_session(session)
    if chosen is None:
        return None
    periods = selectors.periods_of(session, until=timezone.now())
    try:
        priced, _ = selectors.price_of(session, chosen.version, periods)
    except ValueError:  # periods that make no session (a charger's clock): nothing to show
        return None
    return Cost(pricing.round_money(priced.total_incl_vat, priced.currency), priced.currency)


def total_text(cost: Cost, locale: str = "en") -> str:
    """A session's total for the screen: "Total €4.57 incl. VAT"."""
    return f"Total {format_currency(cost.amount, cost.currency, locale=locale)} incl. VAT"


def money_text(cost: Cost) -> str:
    """A cost as the dashboard's live updates write it: in English, since the event that
    carries it goes to every viewer (and webhooks) whatever their language."""
    return format_money(cost.amount, cost.currency, "en")
