"""Invoices and statements as documents: the PDFs of the dashboard, the API and the portal, the
invoices' CSV, the parties an issued invoice keeps, and the billing settings page."""

import csv
import io

from django.urls import reverse

from billing.models import Invoice, Statement
from billing.selectors import billing_settings
from billing.services import billing_settings_set, customer_update, invoice_credit
from cpms.models import ApiKeyRole, SiteOwner
from cpms.tenancy import scoping
from tests.billing.pdfs import attachments, pdf_text


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_an_invoice_pdf_shows_its_number_parties_and_total(client, bob, issue):
    invoice = issue(20)
    client.force_login(bob)

    response = client.get(url("invoice_pdf", pk=invoice.pk))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Invoice INV-000001" in text and "€7.14" in text and "VAT 19 %" in text
    assert "Session" in text and "20 kWh" in text
    assert "Harbour Charging GmbH" in text and "DE123456789" in text
    assert "Harbour Logistics" in text and "Kehrwieder 2" in text
    assert attachments(response.content) == {}  # Factur-X is off


def test_the_api_serves_a_credit_note_as_pdf_by_content_negotiation(api, keys, tenant_a, issue):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        note = invoice_credit(invoice=invoice, reason="Miscalibrated meter")
    reader = api(keys[ApiKeyRole.READ_ONLY])

    response = reader.get(
        reverse("api:invoice-pdf", kwargs={"pk": note.pk}), HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'attachment; filename="CN-000001.pdf"'
    text = pdf_text(response.content)
    assert "Credit note CN-000001" in text and "-€7.14" in text
    assert "INV-000001" in text and "Miscalibrated meter" in text


def test_an_issued_invoice_keeps_the_parties_it_was_issued_to(client, alice, tenant_a, issue):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        customer_update(customer=invoice.customer, street="Neuer Wall 9", name="Renamed AG")
        billing_settings_set(legal_name="Other Legal Name GmbH")
    client.force_login(alice)

    text = client.get(url("invoice_detail", pk=invoice.pk)).content.decode()

    assert "Kehrwieder 2" in text and "Harbour Charging GmbH" in text
    assert "Neuer Wall 9" not in text and "Other Legal Name" not in text


def test_the_invoice_csv_lists_the_invoices_the_list_shows(client, bob, tenant_a, issue):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        note = invoice_credit(invoice=invoice, reason="Miscalibrated meter")
    client.force_login(bob)

    everything = rows(client.get(url("invoice_export")))
    none = rows(client.get(url("invoice_export"), {"customer": invoice.customer_id + 1}))

    header, first, second = everything
    assert header[:4] == ["number", "kind", "customer", "customer_vat_id"]
    record = dict(zip(header, first, strict=True))
    assert record["number"] == "INV-000001" and record["customer"] == "Harbour Logistics"
    assert (record["total_excl_vat"], record["vat"], record["total_incl_vat"]) == (
        "6.00",
        "1.14",
        "7.14",
    )
    assert record["credited_by"] == note.display_number
    credit = dict(zip(header, second, strict=True))
    assert credit["credits"] == "INV-000001" and credit["total_incl_vat"] == "-7.14"
    assert none == [header]


def test_the_api_exports_invoices_and_an_invoice_s_lines_with_formulas_neutralised(
    api, keys, tenant_a, issue
):
    invoice = issue(20, 5)
    with scoping.scope(tenant_a):
        # A name typed into a form, as the invoice kept it: a spreadsheet would run it.
        Invoice.objects.filter(pk=invoice.pk).update(
            recipient={**invoice.recipient, "name": '=HYPERLINK("http://evil.test")'}
        )
    reader = api(keys[ApiKeyRole.READ_ONLY])

    listed = rows(reader.get(reverse("api:invoice-export"), {"customer": invoice.customer_id}))
    lines = rows(reader.get(reverse("api:invoice-lines-export", kwargs={"pk": invoice.pk})))

    assert listed[1][2] == '\'=HYPERLINK("http://evil.test")'
    header, *sessions = lines
    assert [dict(zip(header, row, strict=True))["total_energy_kwh"] for row in sessions] == [
        "20.000000",
        "5.000000",
    ]
    assert {row[0] for row in sessions} == {"INV-000001"}


def test_a_site_owner_downloads_their_own_statement_and_no_one_else_s(
    client, tenant_a, owner_a, paula, seller
):
    with scoping.scope(tenant_a):
        own = Statement.objects.create(
            site_owner=owner_a, period_start="2026-03-01", period_end="2026-03-31",
            issued_at="2026-04-03T08:00Z", currency="EUR", revenue_minor=10000,
            share_minor=3000, fees_minor=2500, payout_minor=500,
            sites=[{"site": 1, "name": "Mall A", "sessions": 4, "energy_kwh": "80.5",
                    "revenue": "100.00", "share_percent": "30", "share": "30.00",
                    "fee": "25.00"}],
            issuer={"name": "Harbour Charging GmbH"}, recipient={"name": owner_a.name},
        )  # fmt: skip
        other = Statement.objects.create(
            site_owner=SiteOwner.objects.create(name="Someone Else GmbH"),
            period_start="2026-03-01", period_end="2026-03-31", issued_at="2026-04-03T08:00Z",
            currency="EUR", revenue_minor=99999, share_minor=1, fees_minor=0, payout_minor=1,
            sites=[],
        )  # fmt: skip
    client.force_login(paula)

    mine = client.get(
        reverse("portal_statement_pdf", kwargs={"tenant_slug": "tenant-a", "pk": own.pk})
    )
    theirs = client.get(
        reverse("portal_statement_pdf", kwargs={"tenant_slug": "tenant-a", "pk": other.pk})
    )

    assert mine.status_code == 200 and mine.content.startswith(b"%PDF")
    assert mine["Content-Disposition"].endswith('statement-mall-a-gmbh-2026-03-eur.pdf"')
    text = pdf_text(mine.content)
    assert "Statement March 2026 (EUR)" in text and "Mall A" in text and "€5.00" in text
    assert theirs.status_code == 404


def test_an_admin_keeps_the_legal_details_and_a_viewer_cannot(client, alice, bob, tenant_a):
    form = {
        "cost_update_seconds": 60,
        "legal_name": "Harbour Charging GmbH",
        "country": "de",
        "payment_terms": "Payable within 30 days.",
    }
    client.force_login(bob)
    assert client.post(url("billing_settings"), form).status_code == 403

    client.force_login(alice)
    response = client.post(url("billing_settings"), form)

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        saved = billing_settings()
    assert (saved.legal_name, saved.country, saved.facturx) == (
        "Harbour Charging GmbH",
        "DE",
        False,
    )
