import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cpms.models import Tenant
from cpms.services.tenants import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (a charge point operator) and its first admin."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Used in URLs: /t/<slug>/ and /ocpp/<slug>/<charger-id>")
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", help="Omit to generate one (printed once).")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--currency", default="EUR")

    def handle(self, *args, slug, name, admin_email, admin_password, timezone, currency, **opts):
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug '{slug}' exists already; choose another slug.")
        password = admin_password or secrets.token_urlsafe(12)
        try:
            tenant, created = tenant_create(
                slug=slug,
                name=name,
                admin_email=admin_email,
                admin_password=password,
                timezone=timezone,
                currency=currency,
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        shown = password if created else "(existing account, password unchanged)"
        self.stdout.write(self.style.SUCCESS(f"Created tenant {name} ({slug})."))
        self.stdout.write(f"  admin login: {admin_email.strip().lower()}  password: {shown}")
        self.stdout.write(f"  chargers connect to: ws(s)://HOST/ocpp/{slug}/<charge-point-id>")
