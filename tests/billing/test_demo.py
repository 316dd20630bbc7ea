"""`seed_demo` gives the demo tenant its tariffs, once, so that `make demo` shows priced
sessions."""

import io

from django.core.management import call_command

from billing.models import Customer, SiteShare, Tariff, TariffAssignment
from cpms.models import Tenant
from cpms.tenancy import scoping


def test_seed_demo_creates_the_demo_tariffs_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    with scoping.scope(Tenant.objects.get(slug="demo")):
        assert sorted(Tariff.objects.values_list("name", flat=True)) == [
            "Fleet contract",
            "Public AC",
        ]
        fleet = TariffAssignment.objects.get(group__isnull=False)
        assert fleet.group.uid == "FLEET-GROUP" and fleet.priority == 10
        assert TariffAssignment.objects.count() == 2
        assert Customer.objects.get().groups.get().group.uid == "FLEET-GROUP"
        assert SiteShare.objects.get().site.name == "Harbour Mall"
