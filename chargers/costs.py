"""What a charger shows its driver about money, asked of whichever app prices sessions.

The chargers' handlers answer Authorize and TransactionEvent with the driver's price and the
session's cost, but pricing is not theirs: the app that prices sessions registers its two
functions here from its AppConfig.ready, and without one nothing is shown. Both run on the
database threads in the charger's tenant scope, on the answer path: read the database only,
never Redis or the broker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from chargers.models import IdToken


@dataclass(frozen=True)
class PriceText:
    """The driver's price in words for the charger's screen."""

    text: str
    language: str = "en"


@dataclass(frozen=True)
class Cost:
    """A session's cost so far (or its total once it ended), VAT included, rounded to the
    currency's minor unit."""

    amount: Decimal
    currency: str


PriceTextFn = Callable[..., PriceText | None]  # (charger_id, evse_id, token) -> PriceText
SessionCostFn = Callable[..., Cost | None]  # (session_id) -> Cost

_price_text: list[PriceTextFn] = []
_session_cost: list[SessionCostFn] = []


def register(*, price_text: PriceTextFn, session_cost: SessionCostFn) -> None:
    """Install the pricing app's functions (once, from its AppConfig.ready)."""
    _price_text[:] = [price_text]
    _session_cost[:] = [session_cost]


def price_text(*, charger_id: int, evse_id: int | None, token: IdToken | None) -> PriceText | None:
    """The price the driver of `token` pays at this charger, or None (nobody prices)."""
    if not _price_text or token is None:
        return None
    return _price_text[0](charger_id=charger_id, evse_id=evse_id, token=token)


def session_cost(*, session_id: int) -> Cost | None:
    """The session's cost so far, or None where no tariff applies."""
    if not _session_cost:
        return None
    return _session_cost[0](session_id=session_id)
