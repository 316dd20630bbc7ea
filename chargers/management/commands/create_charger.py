from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from chargers.services.chargers import charger_create
from cpms.models import Site, Tenant
from cpms.tenancy import scoping


class Command(BaseCommand):
    help = "Register a charger with a tenant and set its password (printed once)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="The tenant's slug.")
        parser.add_argument("identity", help="The charge point id the charger connects with.")
        parser.add_argument("--password", help="16-40 characters; omit to generate one.")
        parser.add_argument("--site", help="Name of the tenant's site to place it in.")

    def handle(self, *args, tenant, identity, password, site, **options):
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant with slug '{tenant}'.")
        with scoping.scope(tenant_obj):
            site_obj = None
            if site:
                site_obj = Site.objects.filter(name__iexact=site).first()
                if site_obj is None:
                    raise CommandError(f"No site named '{site}' in {tenant_obj.name}.")
            try:
                new = charger_create(identity=identity, site=site_obj, password=password)
            except ValidationError as refused:
                raise CommandError(
                    "; ".join(f"{k}: {' '.join(v)}" for k, v in refused.message_dict.items())
                ) from None
        self.stdout.write(self.style.SUCCESS(f"Registered {identity} with {tenant_obj.name}."))
        self.stdout.write(f"  URL: ws(s)://HOST/ocpp/{tenant}/{identity}")
        self.stdout.write(f"  password: {new.password}")
