"""The demo tenant: its sites, people, chargers and RFID tokens, created or refreshed.

What `manage.py seed_demo` and the demo (`make demo`) run; every run leaves the same state, so
it may run at every start.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chargers.certificates.models import PlugAndChargeSettings
from chargers.certificates.services.authority import authority_for_signing
from chargers.certificates.services.contracts import v2g_authority
from chargers.certificates.services.pnc_settings import pnc_settings_set
from chargers.local_lists.services.policies import local_list_demo_policies
from chargers.models import Charger, IdToken
from chargers.services.chargers import charger_set_password
from chargers.smart_charging.services import demo_load_tree
from cpms.models import Membership, Role, Site, SiteOwner, Tenant
from cpms.tenancy import scoping

# Printed on every run: the demo's logins are meant to be known.
DEMO_PASSWORD = "demo-password"  # noqa: S105
DEMO_CHARGER_PASSWORD = "demo-charger-password"  # noqa: S105
# The simulator names chargers PREFIX-0001...; `manage.py demo` runs these six.
DEMO_CHARGERS = {
    "Harbour Mall": ["DEMO-0001", "DEMO-0002", "DEMO-0003", "DEMO-0004"],
    "Riverside Offices": ["DEMO-0005", "DEMO-0006"],
}
# Tags to show the fleet filter and a campaign targeted by tag: the offices' pair serves the
# delivery vans; two mall chargers try firmware first.
DEMO_TAGS = {
    "DEMO-0001": ["beta-firmware"],
    "DEMO-0002": ["beta-firmware"],
    "DEMO-0005": ["depot"],
    "DEMO-0006": ["depot"],
}
# The simulator's drivers present these tags (its default --id-tags).
SIMULATOR_TAGS = [f"SIM-TAG-{n:04d}" for n in range(1, 11)]
TENANT_SLUG = "demo"

DEMO_ADMIN = "admin@demo.test"
PEOPLE = [
    ("platform@demo.test", None, "platform staff (every tenant, Django admin)"),
    (DEMO_ADMIN, Role.ADMIN, "tenant admin"),
    ("operator@demo.test", Role.OPERATOR, "operator"),
    ("viewer@demo.test", Role.VIEWER, "viewer (read-only)"),
    ("owner@demo.test", Role.PORTAL, "site owner portal (Harbour Mall only)"),
    ("greta@demo.test", Role.OPERATOR, "operator who reads German (Deutsch)"),
]
# The language each demo person chose (Your account); the others follow their browser.
DEMO_LANGUAGES = {"greta@demo.test": "de"}


@transaction.atomic
def demo_seed() -> Tenant:
    """Create or refresh the demo tenant; returns it."""
    tenant, _ = Tenant.objects.update_or_create(
        slug=TENANT_SLUG,
        defaults={"name": "Demo Charging Co", "timezone": "Europe/Berlin", "currency": "EUR"},
    )
    with scoping.scope(tenant):
        _seed(tenant)
    return tenant


def _seed(tenant: Tenant) -> None:
    owner, _ = SiteOwner.objects.get_or_create(
        name="Harbour Mall GmbH", defaults={"contact_email": "facilities@harbourmall.test"}
    )
    Site.objects.update_or_create(
        name="Harbour Mall",
        defaults={
            "site_owner": owner,
            "street": "Kaistraße 1",
            "postal_code": "20457",
            "city": "Hamburg",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "grid_limit_kw": 150,
        },
    )
    Site.objects.update_or_create(
        name="Riverside Offices",
        defaults={
            "street": "Uferweg 12",
            "postal_code": "50667",
            "city": "Köln",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "grid_limit_kw": 60,
        },
    )

    User = get_user_model()
    for email, role, _ in PEOPLE:
        user = User.objects.filter(email=email).first() or User(email=email)
        user.is_staff = role in (None, Role.ADMIN)
        user.is_superuser = role is None
        user.set_password(DEMO_PASSWORD)
        user.language = DEMO_LANGUAGES.get(email, user.language)
        user.save()
        if role is not None:
            Membership.objects.update_or_create(
                user=user,
                defaults={
                    "role": role,
                    "site_owner": owner if role == Role.PORTAL else None,
                },
            )

    for site_name, identities in DEMO_CHARGERS.items():
        site = Site.objects.get(name=site_name)
        for identity in identities:
            # The tags when the charger is made only: an operator's later tags are kept.
            charger, _ = Charger.objects.update_or_create(
                identity=identity,
                defaults={"site": site},
                create_defaults={"site": site, "tags": DEMO_TAGS.get(identity, [])},
            )
            charger_set_password(charger=charger, password=DEMO_CHARGER_PASSWORD)
    # The tenant's CA, which signs the demo chargers' certificates when they ask (the demo's
    # fleet asks once registered).
    authority_for_signing()
    # Load management at the mall: a car park on a circuit the fleet's cars must share.
    mall = Site.objects.get(name="Harbour Mall")
    demo_load_tree(site=mall, chargers=list(Charger.objects.filter(site=mall)))

    fleet, _ = IdToken.objects.get_or_create(
        uid="FLEET-GROUP", defaults={"type": "Central", "label": "Fleet cards (group)"}
    )
    tokens = [
        ("04A1B2C3D4", "Alex Driver", None, False, None),
        ("04E5F6A7B8", "Sam Driver", None, False, None),
        ("0411223344", "Delivery van 1", fleet, False, None),
        ("0455667788", "Delivery van 2", fleet, False, None),
        ("04DEADBEEF", "Lost card", None, True, None),
        ("04CAFEBABE", "Former employee", None, False, timezone.now() - timedelta(days=30)),
    ]
    tokens += [(uid, f"Simulated driver {uid[-2:]}", None, False, None) for uid in SIMULATOR_TAGS]
    for uid, label, group, blocked, expires_at in tokens:
        IdToken.objects.update_or_create(
            uid=uid,
            defaults={
                "label": label,
                "group": group,
                "blocked": blocked,
                "expires_at": expires_at,
            },
        )
    # Plug & Charge (DEMO-0006's cars): the built-in test V2G PKI issues their contracts, and
    # the eMAID tokens join the fleet's group, so their sessions are priced by the fleet's
    # contract and invoiced to its customer. An operator's later choice is kept.
    v2g_authority()
    if not PlugAndChargeSettings.objects.exists():
        pnc_settings_set(token_group=fleet)
    # Local lists: every token at the mall, the fleet's cards at the offices.
    local_list_demo_policies(offices=Site.objects.get(name="Riverside Offices"), fleet_group=fleet)
