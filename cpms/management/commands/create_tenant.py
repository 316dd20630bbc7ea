import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cpms.models import Membership, Role, Tenant
from cpms.tenancy import scoping


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
        tenant = Tenant(slug=slug, name=name, timezone=timezone, currency=currency)
        try:
            tenant.full_clean()
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        User = get_user_model()
        email = admin_email.strip().lower()
        password = admin_password or secrets.token_urlsafe(12)
        with transaction.atomic(), scoping.scope(tenant):
            tenant.save()
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=password, is_staff=True)
                shown = password
            else:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
                shown = "(existing account, password unchanged)"
            Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
        self.stdout.write(self.style.SUCCESS(f"Created tenant {name} ({slug})."))
        self.stdout.write(f"  admin login: {email}  password: {shown}")
        self.stdout.write(f"  chargers connect to: ws(s)://HOST/ocpp/{slug}/<charge-point-id>")
