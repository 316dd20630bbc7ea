"""Site owners' monthly statements: their sites' revenue, the agreed share, the fee withheld,
the payout, reconciling with the records; a site owner sees only their own."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from billing.invoicing import month, previous_month, settle_site
from billing.models import ChargeDetailRecord, Statement
from billing.services import cdr_issue, site_share_set, statements_issue
from chargers.models import ChargingSession
from cpms.models import Site, SiteOwner
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


APRIL = month(2026, 4, ZoneInfo("Europe/Berlin"))
MAY = month(2026, 5, ZoneInfo("Europe/Berlin"))


def test_a_record_corrected_after_its_statement_is_an_adjustment_on_the_next(
    client, alice, tenant_a, site_a, standard_tariff, charge, eager
):
    with scoping.scope(tenant_a):
        site_share_set(site=site_a, revenue_share_percent=Decimal(30), monthly_fee=Decimal(25))
    session = charge(kwh=10, start=MARCH.start + timedelta(days=3))
    charge(kwh=20, start=APRIL.start + timedelta(days=3))
    with scoping.scope(tenant_a):
        (march,) = statements_issue(period=MARCH)
        sent = (march.revenue_minor, march.payout_minor, march.sites)
        first = ChargeDetailRecord.objects.get(session=session)
        ChargingSession.objects.filter(pk=session.pk).update(
            meter_stop_wh=Decimal(13000), energy_wh=Decimal(12000)
        )
        corrected = cdr_issue(session_id=session.pk)

        (april,) = statements_issue(period=APRIL)
        may_ = statements_issue(period=MAY)
        march.refresh_from_db()
        april_revenue = ChargeDetailRecord.objects.get(start_date_time__gte=APRIL.start)

    # March's statement stays as it was issued.
    assert (march.revenue_minor, march.payout_minor, march.sites) == sent
    assert march.revenue_minor == first.total_excl_vat_minor == 300
    # April's has its own month, and March's correction as an adjustment.
    assert april.revenue_minor == april_revenue.total_excl_vat_minor
    difference = corrected.total_excl_vat_minor - first.total_excl_vat_minor
    assert difference == 60  # 2 kWh more at 0.30
    (adjustment,) = april.adjustments
    assert adjustment["cdr"] == corrected.pk and adjustment["month"] == "2026-03"
    assert (adjustment["before"], adjustment["revenue"]) == ("3.00", "3.60")
    assert adjustment["difference"] == "0.60" and adjustment["share"] == "0.18"
    assert april.adjustment_minor == 18
    assert april.payout_minor == april.share_minor - april.fees_minor + 18
    # Settled once: May's statement (none, as May had no sessions) does not adjust it again.
    assert may_ == []
    # The document shows the adjustment.
    client.force_login(alice)
    page = client.get(
        reverse("statement_detail", kwargs={"tenant_slug": "tenant-a", "pk": april.pk})
    ).content.decode()
    assert "data-adjustments" in page and "2026-03" in page and "€0.18" in page


def test_a_record_first_priced_after_its_month_s_statement_is_settled_as_an_adjustment(
    tenant_a, site_a, standard_tariff, charge, eager
):
    with scoping.scope(tenant_a):
        site_share_set(site=site_a, revenue_share_percent=Decimal(50))
    charge(kwh=10, start=MARCH.start + timedelta(days=3))
    with scoping.scope(tenant_a):
        statements_issue(period=MARCH)
    # A charger that reconnects late: its March session is priced in April.
    late = charge(kwh=4, start=MARCH.start + timedelta(days=9))

    with scoping.scope(tenant_a):
        (april,) = statements_issue(period=APRIL)

    (adjustment,) = april.adjustments
    assert adjustment["session"] == late.pk and adjustment["before"] == "0.00"
    assert adjustment["revenue"] == "1.20" and april.adjustment_minor == 60
    assert april.sites == [] and april.payout_minor == 60


def test_the_portal_charts_a_site_s_revenue_per_month_next_to_its_uptime(
    client, tenant_a, site_a, paula, standard_tariff, charge, eager
):
    with scoping.scope(tenant_a):
        site_share_set(site=site_a, revenue_share_percent=Decimal(30))
        elsewhere = Site.objects.create(name="Someone else's depot")
    # Last month: whole, and in the chart's 12 months whenever the test runs.
    this_month = previous_month(timezone.now(), ZoneInfo("Europe/Berlin"))
    charge(kwh=10, start=this_month.start + timedelta(hours=1))
    charge(kwh=20, start=this_month.start + timedelta(hours=3))
    moved = charge(kwh=50, start=this_month.start + timedelta(hours=5))
    with scoping.scope(tenant_a):
        # Another site's session (not the owner's): no part of their chart.
        ChargeDetailRecord.objects.filter(session=moved).update(site=elsewhere)
    client.force_login(paula)

    page = client.get(reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": site_a.pk}))
    foreign = client.get(
        reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": elsewhere.pk})
    )

    text = page.content.decode()
    assert text.index("Uptime per connector") < text.index("Revenue per month")
    chart = json.loads(re.search(r'id="revenue-eur"[^>]*>(.*?)</script>', text).group(1))
    label = f"{this_month.first_day:%Y-%m}"
    assert chart == {
        "currency": "EUR", "labels": [label], "revenue": [9.0], "share": [2.7]
    }  # fmt: skip
    assert foreign.status_code == 404
