"""Tariff terms and times the billing tests share."""

from datetime import UTC, datetime

# A Monday morning, in the past (sessions are dated by their chargers).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def energy_elements(price, vat=19):
    """OCPI elements of one ENERGY price per kWh with `vat` percent."""
    return [{"price_components": [{"type": "ENERGY", "price": price, "vat": vat, "step_size": 1}]}]
