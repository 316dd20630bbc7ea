"""Site owners' monthly statements: their sites' revenue, the agreed share, the fee withheld,
the payout, reconciling with the records; a site owner sees only their own."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.urls import reverse

from billing.invoicing import month, settle_site
from billing.models import ChargeDetailRecord, Statement
from billing.services import site_share_set, statements_issue
from cpms.models import SiteOwner
from cpms.tenancy import scoping

MARCH = month(2026, 3, ZoneInfo("Europe/Berlin"))


def test_a_share_rounds_once_on_the_site_s_month():
    settled = settle_site(
        site_id=1,
        name="Mall",
        revenues_minor=[333, 333, 334],
        energy_kwh=Decimal(30),
        share_percent=Decimal("33.33"),
        fee_minor=500,
    )

    assert (settled.revenue_minor, settled.share_minor, settled.sessions) == (1000, 333, 3)


def month_at_the_mall(charge, count=10):
    for n in range(count):
        charge(kwh=Decimal("3.141") * (n + 1), start=MARCH.start + timedelta(hours=5 + 60 * n))


def test_a_month_settles_the_owner_s_sites(tenant_a, site_a, standard_tariff, charge, eager):
    with scoping.scope(tenant_a):
        site_share_set(site=site_a, revenue_share_percent=Decimal(30), monthly_fee=Decimal(25))
    month_at_the_mall(charge)
    charge(kwh=50, start=MARCH.end + timedelta(hours=1))  # April's

    with scoping.scope(tenant_a):
        (statement,) = statements_issue(period=MARCH)
        again = statements_issue(period=MARCH)
        revenue = ChargeDetailRecord.objects.filter(start_date_time__lt=MARCH.end).aggregate(
            total=Sum("total_excl_vat_minor")
        )["total"]

    assert again == []
    assert statement.revenue_minor == revenue
    share = int((Decimal(revenue) * Decimal("0.30")).quantize(Decimal(1), "ROUND_HALF_UP"))
    assert (statement.share_minor, statement.fees_minor) == (share, 2500)
    assert statement.payout_minor == share - 2500
    assert statement.sites[0]["sessions"] == 10


def test_a_site_owner_sees_only_their_own_statements(
    client, tenant_a, site_a, owner_a, paula, standard_tariff, charge, eager
):
    month_at_the_mall(charge, count=2)
    with scoping.scope(tenant_a):
        statements_issue(period=MARCH)
        other = SiteOwner.objects.create(name="Someone Else GmbH")
        Statement.objects.create(
            site_owner=other, period_start=MARCH.first_day, period_end=MARCH.last_day,
            issued_at=MARCH.end, currency="EUR", revenue_minor=99999, share_minor=1,
            fees_minor=0, payout_minor=1, sites=[],
        )  # fmt: skip
    client.force_login(paula)

    page = client.get(reverse("portal_statements", kwargs={"tenant_slug": "tenant-a"}))

    text = page.content.decode()
    assert page.status_code == 200 and "March 2026" in text and "Mall A" in text
    assert "€999.99" not in text
