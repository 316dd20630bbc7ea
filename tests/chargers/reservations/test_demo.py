"""`seed_demo` leaves one open reservation for the demo's first charger, waiting for the
simulated charger to connect; seeding again replaces it."""

import io

from django.core.management import call_command

from chargers.reservations.models import Reservation, ReservationStatus
from cpms.models import Tenant
from cpms.tenancy import scoping


def test_seed_demo_leaves_one_reservation_waiting_for_the_demo_charger(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    with scoping.scope(Tenant.objects.get(slug="demo")):
        [waiting] = Reservation.objects.filter(status=ReservationStatus.REQUESTED)
        replaced = Reservation.objects.get(status=ReservationStatus.CANCELLED)
        assert waiting.charger.identity == "DEMO-0001" and waiting.evse_id == 2
        assert waiting.id_tag == "04A1B2C3D4" and waiting.sent_at is None
    assert replaced.ocpp_id == 1 and waiting.ocpp_id == 2
