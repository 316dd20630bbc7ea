"""Invoices: a month of priced sessions invoiced per customer, reconciling with the records to
the cent; numbers per series without gaps or duplicates, also with workers racing; corrections
by credit notes, never by changing an invoice."""

import threading
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from billing.invoicing import month, previous_month, vat_breakdown
from billing.models import ChargeDetailRecord, Invoice, InvoiceKind, InvoiceSeries
from billing.services import (
    assignment_create,
    cdr_issue,
    customer_create,
    invoice_credit,
    invoices_issue,
    site_share_set,
    statements_issue,
    tariff_create,
)
from chargers.models import ChargingSession, IdToken
from cpms.tenancy import scoping
from tests.billing.tariffs import T0, energy_elements

MARCH = month(2026, 3, ZoneInfo("Europe/Berlin"))


def test_a_month_is_bounded_in_the_tenant_s_time_zone():
    assert (MARCH.first_day.isoformat(), MARCH.last_day.isoformat()) == ("2026-03-01", "2026-03-31")
    assert MARCH.start.isoformat() == "2026-02-28T23:00:00+00:00"
    # Summer time began on 29 March: April starts at 22:00 UTC.
    assert MARCH.end.isoformat() == "2026-03-31T22:00:00+00:00"


def test_the_previous_month_of_january_is_december():
    assert previous_month(T0.replace(month=1), ZoneInfo("UTC")).first_day.isoformat() == (
        "2025-12-01"
    )


def test_vat_is_summed_per_rate_from_the_records_groups():
    records = [
        {"vat_groups": [{"vat": "19", "base": "6.00", "amount": "1.14"}]},
        {
            "vat_groups": [{"vat": "19", "base": "0.10", "amount": "0.02"}],
            "adjustment": {"excl_vat": "0.40", "incl_vat": "0.48"},
        },
    ]

    assert vat_breakdown(records) == [
        {"vat": "19", "base": "6.10", "amount": "1.16"},
        {"vat": "bounds", "base": "0.40", "amount": "0.08"},
    ]


@pytest.fixture
def fleets(tenant_a):
    """Three customers, each paying for one group with one card; a tariff for everyone."""
    with scoping.scope(tenant_a):
        tariff = tariff_create(name="Standard", currency="EUR", elements=energy_elements(0.33))
        assignment_create(tariff=tariff)
        cards = []
        for n in range(3):
            group = IdToken.objects.create(uid=f"GROUP-{n}")
            cards.append(IdToken.objects.create(uid=f"CARD-{n}", group=group))
            customer_create(name=f"Fleet {n}", groups=[group])
        return cards


def month_of_sessions(charge, count=30):
    """Sessions through March, odd energies (rounding on every record), cards taking turns."""
    for n in range(count):
        charge(
            kwh=Decimal("7.777") + n,
            id_tag=f"CARD-{n % 3}",
            start=MARCH.start + timedelta(hours=7 + 23 * n),
        )


def test_a_month_of_sessions_reconciles_with_the_records_to_the_cent(
    tenant_a, fleets, charge, eager
):
    month_of_sessions(charge)

    with scoping.scope(tenant_a):
        invoices = invoices_issue(period=MARCH)
        records = ChargeDetailRecord.objects.aggregate(
            excl=Sum("total_excl_vat_minor"), incl=Sum("total_incl_vat_minor")
        )
        invoiced = Invoice.objects.aggregate(
            excl=Sum("total_excl_vat_minor"), incl=Sum("total_incl_vat_minor")
        )
        lines = sum(i.lines.count() for i in Invoice.objects.all())

    assert len(invoices) == 3 and lines == 30
    assert invoiced == records
    for invoice in invoices:
        vat = sum(Decimal(g["amount"]) for g in invoice.vat_groups) * 100
        assert vat == invoice.total_incl_vat_minor - invoice.total_excl_vat_minor


def test_a_month_s_invoices_and_statement_reconcile_with_the_records_and_each_other(
    tenant_a, site_a, fleets, charge, eager
):
    # The same sessions, billed to the customers and settled with the site's owner: both
    # documents add up to the records to the cent, and the owner's share is reckoned once.
    with scoping.scope(tenant_a):
        site_share_set(site=site_a, revenue_share_percent=Decimal("27.5"), monthly_fee=Decimal(10))
    month_of_sessions(charge)

    with scoping.scope(tenant_a):
        invoices = invoices_issue(period=MARCH)
        (statement,) = statements_issue(period=MARCH)
        records = ChargeDetailRecord.objects.aggregate(excl=Sum("total_excl_vat_minor"))["excl"]

    invoiced = sum(i.total_excl_vat_minor for i in invoices)
    assert invoiced == records == statement.revenue_minor
    share = int((Decimal(records) * Decimal("0.275")).quantize(Decimal(1), "ROUND_HALF_UP"))
    assert (statement.share_minor, statement.fees_minor) == (share, 1000)
    assert statement.payout_minor == share - 1000
    assert statement.sites[0]["sessions"] == 30


def test_issuing_again_issues_nothing_and_late_records_wait_for_the_next_month(
    tenant_a, fleets, charge, eager
):
    month_of_sessions(charge, count=3)
    with scoping.scope(tenant_a):
        invoices_issue(period=MARCH)
    charge(kwh=5, id_tag="CARD-0", start=MARCH.start + timedelta(days=20))

    with scoping.scope(tenant_a):
        again = invoices_issue(period=MARCH)
        april = invoices_issue(period=month(2026, 4, ZoneInfo("Europe/Berlin")))
        shown = [(i.customer.name, i.lines.count()) for i in april]

    assert again == []
    assert shown == [("Fleet 0", 1)]


def test_numbers_have_no_gaps(tenant_a, fleets, charge, eager):
    month_of_sessions(charge, count=3)

    with scoping.scope(tenant_a):
        invoices_issue(period=MARCH)
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        series = InvoiceSeries.objects.get(code="INV")

    assert numbers == [1, 2, 3] and series.last_number == 3
    assert Invoice.objects.model(series="INV", number=7).display_number == "INV-000007"


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_issue_each_invoice_once_numbered_without_gaps(
    tenant_a, fleets, charge, eager
):
    month_of_sessions(charge, count=6)
    barrier = threading.Barrier(2)
    failures = []

    def worker():
        try:
            barrier.wait(timeout=30)
            with scoping.scope(tenant_a):
                invoices_issue(period=MARCH)
        except Exception as error:  # reported below, in the test's thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with scoping.scope(tenant_a):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        last = InvoiceSeries.objects.get(code="INV").last_number
    assert failures == []
    assert numbers == [1, 2, 3] and last == 3


def test_a_credit_note_credits_an_invoice_without_changing_it(tenant_a, fleets, charge, eager):
    month_of_sessions(charge, count=3)
    with scoping.scope(tenant_a):
        invoice = invoices_issue(period=MARCH)[0]
        before = (invoice.total_incl_vat_minor, invoice.lines.count())

        note = invoice_credit(invoice=invoice, reason="Charger was miscalibrated")

        invoice.refresh_from_db()
        assert (invoice.total_incl_vat_minor, invoice.lines.count()) == before
        assert note.kind == InvoiceKind.CREDIT_NOTE and note.credits == invoice
        assert note.total_incl_vat_minor == -invoice.total_incl_vat_minor
        assert note.display_number == "CN-000001"
        with pytest.raises(Exception, match="credited in full"):
            invoice_credit(invoice=invoice, reason="Again")


def test_a_record_corrected_after_invoicing_is_credited_and_invoiced_again(
    tenant_a, fleets, charge, eager
):
    session = charge(kwh=10, id_tag="CARD-0", start=MARCH.start + timedelta(days=3))
    with scoping.scope(tenant_a):
        (march,) = invoices_issue(period=MARCH)
        ChargingSession.objects.filter(pk=session.pk).update(
            meter_stop_wh=Decimal(13000), energy_wh=Decimal(12000)
        )
        corrected = cdr_issue(session_id=session.pk)

        issued = invoices_issue(period=month(2026, 4, ZoneInfo("Europe/Berlin")))

        note, april = sorted(issued, key=lambda i: i.kind)
        current = ChargeDetailRecord.objects.get(superseded_by__isnull=True)
        net = Invoice.objects.aggregate(total=Sum("total_incl_vat_minor"))["total"]
    assert corrected.version == 2
    assert note.kind == InvoiceKind.CREDIT_NOTE and note.credits == march
    assert april.kind == InvoiceKind.INVOICE
    assert net == current.total_incl_vat_minor  # 12 kWh billed in the end, once
