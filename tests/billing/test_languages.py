"""Billing in the reader's language: pages, documents and amounts (German `7,14 €`, French
`7,14 €`, English `€7.14`), with CSV exports left as machines read them."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing.display import format_money, format_number
from billing.models import Customer, Invoice
from cpms.catalogs import compile_catalogs
from cpms.models import User
from cpms.tenancy import scoping
from tests.billing.pdfs import pdf_text

NBSP = "\xa0"


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.fixture
def compiled():
    compile_catalogs()


def speaks(user, language):
    User.objects.filter(pk=user.pk).update(language=language)
    return user


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", "12.34", "EUR", "€12.34"),
        ("de", "12.34", "EUR", f"12,34{NBSP}€"),
        ("fr", "12.34", "EUR", f"12,34{NBSP}€"),
        ("es", "12.34", "EUR", f"12,34{NBSP}€"),
        ("en", "1234.5", "EUR", "€1,234.50"),
        ("de", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("fr", "1234.5", "EUR", f"1\u202f234,50{NBSP}€"),
        ("de", "-7.14", "EUR", f"-7,14{NBSP}€"),
        ("de", "12.3", "CHF", f"12,30{NBSP}CHF"),
        ("en", "500", "JPY", "¥500"),
        ("de", "500", "JPY", f"500{NBSP}¥"),
        ("xx", "12.34", "EUR", "€12.34"),
    ],
)
def test_money_is_written_as_the_reader_s_language_writes_it(language, amount, currency, shown):
    assert format_money(Decimal(amount), currency, language) == shown


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_money_follows_the_active_language_when_none_is_given(language):
    with translation.override(language):
        assert format_money(Decimal("7.14"), "EUR") == format_money(
            Decimal("7.14"), "EUR", language
        )


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "1234.500"), ("de", "1234,500"), ("fr", "1234,500")]
)
def test_a_stored_decimal_keeps_its_digits_in_the_reader_s_format(language, shown):
    with translation.override(language):
        assert format_number("1234.500") == shown


def test_a_german_user_sees_the_invoice_list_in_german_with_german_amounts(
    client, alice, issue, compiled
):
    issue(20)
    client.force_login(speaks(alice, "de"))

    page = client.get(url("invoice_list")).content.decode()

    assert "<h1>Rechnungen</h1>" in page
    assert f">7,14{NBSP}€</td>" in page and f">6,00{NBSP}€</td>" in page
    assert "€7.14" not in page
    assert 'data-label="Inkl. MwSt."' in page


def test_an_english_user_sees_the_same_list_in_english(client, alice, issue, compiled):
    issue(20)
    client.force_login(speaks(alice, "en"))

    page = client.get(url("invoice_list"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "<h1>Invoices</h1>" in page and ">€7.14</td>" in page


def test_a_french_user_reads_the_invoice_in_french(client, alice, issue, compiled):
    invoice = issue(20)
    client.force_login(speaks(alice, "fr"))

    page = client.get(url("invoice_detail", pk=invoice.pk)).content.decode()

    assert "Facture INV-000001" in page and "Total TTC" in page
    assert f"TVA 19 % sur 6,00{NBSP}€" in page


def test_the_invoice_pdf_is_in_the_language_of_who_downloads_it(client, bob, issue, compiled):
    invoice = issue(20)
    client.force_login(speaks(bob, "de"))

    response = client.get(url("invoice_pdf", pk=invoice.pk))

    text = pdf_text(response.content)
    assert "Rechnung INV-000001" in text and "Summe inkl. MwSt." in text
    assert re.search(r"7,14\s€", text) and "€7.14" not in text


def test_the_invoice_csv_stays_machine_readable_for_a_german_user(client, bob, issue, compiled):
    issue(20)
    client.force_login(speaks(bob, "de"))

    response = client.get(url("invoice_export"))

    header, row = csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))
    record = dict(zip(header, row, strict=True))
    assert header[:4] == ["number", "kind", "customer", "customer_vat_id"]
    assert (record["total_excl_vat"], record["total_incl_vat"]) == ("6.00", "7.14")


def test_the_invoice_list_shows_the_issued_name_and_the_tenant_s_day_in_the_reader_s_order(
    client, alice, tenant_a, issue, compiled
):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        # Issued at 23:30 UTC on 31 March: 1 April in Berlin, the tenant's zone.
        Invoice.objects.filter(pk=invoice.pk).update(
            issued_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
        )
        Customer.objects.filter(pk=invoice.customer_id).update(name="Renamed Later GmbH")
    client.force_login(speaks(alice, "de"))

    page = client.get(url("invoice_list")).content.decode()

    assert ">01.04.2026</td>" in page and "31.03.2026" not in page
    row = re.search(r'<tr data-invoice="\d+">.*?</tr>', page).group()
    assert invoice.recipient["name"] in row and "Renamed Later GmbH" not in row
