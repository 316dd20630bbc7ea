from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from billing.services import demo_tariffs_seed
from chargers.configuration.services.demo import demo_configuration_seed
from chargers.models import IdToken
from chargers.reservations.services import reservation_demo_seed
from chargers.services.demo import (
    DEMO_ADMIN,
    DEMO_CHARGER_PASSWORD,
    DEMO_PASSWORD,
    PEOPLE,
    TENANT_SLUG,
    demo_seed,
)
from cpms.audit import context as audit_context
from cpms.audit.models import AuditEntry, Door
from cpms.models import Role
from cpms.tenancy import scoping


class Command(BaseCommand):
    help = "Create or refresh the demo tenant, its sites, people and RFID tokens (idempotent)."

    def handle(self, *args, **options):
        tenant = demo_seed()
        with scoping.scope(tenant), audit_context.acting(self.demo_admin()):
            demo_tariffs_seed(fleet_group=IdToken.objects.filter(uid="FLEET-GROUP").first())
            # Sent when the simulated charger connects; its connector shows Reserved.
            reservation_demo_seed()
            demo_configuration_seed()
        self.print_logins()

    def demo_admin(self) -> audit_context.Actor | None:
        """The demo's admin, as whom the first seeding's tariffs, reservation and templates
        are recorded in the audit log (its page is not empty in `make demo`); later runs,
        which change nothing a person would, act for nobody."""
        if AuditEntry.objects.exists():
            return None
        admin = get_user_model().objects.get(email=DEMO_ADMIN)
        return audit_context.person(admin, role=Role.ADMIN, door=Door.COMMAND)

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo tenant ready: Demo Charging Co (slug 'demo')."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for email, _, what in PEOPLE:
            self.stdout.write(f"  {email:<22} {what}")
        self.stdout.write(
            f"Demo chargers DEMO-0001..DEMO-0006 connect to /ocpp/{TENANT_SLUG}/<id> "
            f"with password {DEMO_CHARGER_PASSWORD}."
        )
