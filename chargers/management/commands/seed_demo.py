from django.core.management.base import BaseCommand

from billing.services import demo_tariffs_seed
from chargers.configuration.services.demo import demo_configuration_seed
from chargers.models import IdToken
from chargers.reservations.services import reservation_demo_seed
from chargers.services.demo import (
    DEMO_CHARGER_PASSWORD,
    DEMO_PASSWORD,
    PEOPLE,
    TENANT_SLUG,
    demo_seed,
)
from cpms.tenancy import scoping


class Command(BaseCommand):
    help = "Create or refresh the demo tenant, its sites, people and RFID tokens (idempotent)."

    def handle(self, *args, **options):
        tenant = demo_seed()
        with scoping.scope(tenant):
            demo_tariffs_seed(fleet_group=IdToken.objects.filter(uid="FLEET-GROUP").first())
            # Sent when the simulated charger connects; its connector shows Reserved.
            reservation_demo_seed()
            demo_configuration_seed()
        self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo tenant ready: Demo Charging Co (slug 'demo')."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for email, _, what in PEOPLE:
            self.stdout.write(f"  {email:<22} {what}")
        self.stdout.write(
            f"Demo chargers DEMO-0001..DEMO-0006 connect to /ocpp/{TENANT_SLUG}/<id> "
            f"with password {DEMO_CHARGER_PASSWORD}."
        )
