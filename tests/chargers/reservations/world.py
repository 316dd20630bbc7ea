"""Tenant A's reservation rows for the shared `world` fixtures (tests/conftest.py and the page
matrix): an online charger with two connectors, and an accepted reservation of its connector 2
(connector 1 stays free for the matrix to reserve). Called inside tenant A's scope."""

from datetime import timedelta

from django.utils import timezone

from chargers.models import Charger, Connector
from chargers.reservations.models import Reservation, ReservationStatus


def reservations_world(site, token):
    charger = Charger.objects.create(
        identity="CP-A-RES", site=site, ocpp_version="1.6", is_online=True
    )
    for evse_id in (1, 2):
        Connector.objects.create(
            charger=charger, evse_id=evse_id, connector_id=1, status="Available"
        )
    reservation = Reservation.objects.create(
        charger=charger,
        evse_id=2,
        id_token=token,
        id_tag=token.uid,
        expires_at=timezone.now() + timedelta(hours=2),
        ocpp_id=1,
        status=ReservationStatus.ACCEPTED,
        charger_status="Accepted",
    )
    return {"reservation_charger": charger, "reservation": reservation}


def reservation_body(world):
    """A reservation the matrix may create: connector 1 of the online charger, for 2 hours."""
    return {
        "charger": world["reservation_charger"].pk,
        "evse_id": 1,
        "id_token": "04AABBCC",
        "expires_at": (timezone.now() + timedelta(hours=2)).isoformat(),
    }
