"""Factur-X e-invoices: the EN 16931 XML (valid against the XSD and the business rules), the
PDF/A-3 that carries it, and the setting that turns them on only with what they need."""

import facturx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing import documents, einvoice
from billing.models import ChargeDetailRecord
from billing.services import (
    assignment_create,
    billing_settings_set,
    customer_create,
    invoice_credit,
    tariff_create,
)
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.billing.en16931 import broken_rules
from tests.billing.parties import SELLER
from tests.billing.pdfs import attachments, pdf_text, pdfa3_problems, pdfa_level


def pdf_url(invoice):
    return reverse("invoice_pdf", kwargs={"tenant_slug": "tenant-a", "pk": invoice.pk})


@pytest.fixture
def facturx_on(tenant_a, seller, fleet_customer):
    with scoping.scope(tenant_a):
        return billing_settings_set(facturx=True)


def xml_of(invoice):
    context = documents.invoice_context(invoice)
    return einvoice.cii_xml(
        invoice, issued=context["issue_date"], credited_issued=context["credited_date"]
    )


def test_an_e_invoice_pdf_carries_its_valid_en16931_xml(client, bob, tenant_a, facturx_on, issue):
    invoice = issue(20, 5.5)
    client.force_login(bob)

    response = client.get(pdf_url(invoice))

    content = response.content
    assert content.startswith(b"%PDF") and pdfa_level(content) == ("3", "B")
    assert pdfa3_problems(content) == []
    name, xml = facturx.get_facturx_xml_from_pdf(content, check_xsd=True)
    assert name == "factur-x.xml" and list(attachments(content)) == ["factur-x.xml"]
    with scoping.scope(tenant_a):
        assert xml == xml_of(invoice)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert broken_rules(xml) == []
    assert b"<ram:TypeCode>380</ram:TypeCode>" in xml and b">INV-000001<" in xml
    assert b"<ram:GrandTotalAmount>9.10</ram:GrandTotalAmount>" in xml
    assert "Invoice INV-000001" in pdf_text(content)


def test_a_credit_note_is_type_381_with_positive_amounts_naming_the_invoice(
    tenant_a, facturx_on, issue
):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        note = invoice_credit(invoice=invoice, reason="Miscalibrated meter")
        xml = xml_of(note)

    assert broken_rules(xml) == []
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert b"<ram:GrandTotalAmount>7.14</ram:GrandTotalAmount>" in xml
    assert b"<ram:IssuerAssignedID>INV-000001</ram:IssuerAssignedID>" in xml
    assert b"Miscalibrated meter" in xml


def test_sessions_at_two_vat_rates_under_a_maximum_price_make_a_valid_invoice(
    tenant_a, facturx_on, fleet_customer, issue
):
    with scoping.scope(tenant_a):
        mixed = tariff_create(
            name="Fleet, start fee at 7 %",
            currency="EUR",
            elements=[
                {"price_components": [{"type": "FLAT", "price": 1, "vat": 7}]},
                {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19}]},
            ],
            max_price={"excl_vat": 5, "incl_vat": 5.8},
        )
        assignment_create(tariff=mixed, group=fleet_customer.groups.get().group, priority=10)
    invoice = issue(20, 2)

    with scoping.scope(tenant_a):
        xml = xml_of(invoice)

    assert broken_rules(xml) == []
    # 20 kWh: 7.00 capped at 5.00 (5.80 with VAT); 2 kWh: 1.60 (1.78 with VAT).
    assert b"<ram:TaxBasisTotalAmount>6.60</ram:TaxBasisTotalAmount>" in xml
    assert b"<ram:GrandTotalAmount>7.58</ram:GrandTotalAmount>" in xml
    assert xml.count(b"<ram:IncludedSupplyChainTradeLineItem>") == 4


@pytest.mark.parametrize(
    ("groups", "adjustment", "expected"),
    [
        # One rate, nothing bounded: the record as it is.
        ([("19", "6.00", "1.14")], {}, [("S", "19", "6.00", "1.14")]),
        # A maximum price spread over the rates by their share of the net.
        (
            [("7", "1.00", "0.07"), ("19", "6.00", "1.14")],
            {"excl_vat": "-2.00", "incl_vat": "-2.41"},
            [("S", "7", "0.71", "0.01"), ("S", "19", "4.29", "0.79")],
        ),
        # No VAT is not 0 %: exempt, next to a zero-rated part.
        (
            [("0", "2.00", "0.00"), (None, "3.00", "0.00")],
            {},
            [("Z", "0", "2.00", "0.00"), ("E", "0", "3.00", "0.00")],
        ),
        # Nothing priced but the minimum price: its VAT tells the rate.
        ([], {"excl_vat": "2.00", "incl_vat": "2.38"}, [("S", "19.00", "2.00", "0.38")]),
    ],
)
def test_a_record_s_parts_per_vat_rate_sum_to_its_totals(groups, adjustment, expected):
    record = ChargeDetailRecord(
        currency="EUR",
        vat_groups=[{"vat": rate, "base": base, "amount": vat} for rate, base, vat in groups],
        adjustment=adjustment,
    )

    found = einvoice.parts(record)

    assert [(p.category, str(p.rate), str(p.net), str(p.vat)) for p in found] == expected


def test_e_invoices_stay_off_without_the_seller_s_legal_details(client, alice, tenant_a):
    client.force_login(alice)
    page = reverse("billing_settings", kwargs={"tenant_slug": "tenant-a"})

    response = client.post(
        page, {"cost_update_seconds": 60, "legal_name": "Harbour Charging GmbH", "facturx": "on"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"street", "postal_code", "city", "country", "vat_id", "payment_terms"} <= set(errors)
    assert "legal_name" not in errors
    with scoping.scope(tenant_a):
        with pytest.raises(ValidationError) as refused:
            billing_settings_set(facturx=True)
    assert "vat_id" in refused.value.message_dict


def test_e_invoices_need_every_customer_s_country(tenant_a, seller):
    with scoping.scope(tenant_a):
        customer_create(name="Nowhere Ltd")
        with pytest.raises(ValidationError) as refused:
            billing_settings_set(facturx=True)
        billing_settings_set(**SELLER)  # the details alone are fine

    assert "Nowhere Ltd" in refused.value.message_dict["facturx"][0]


def test_with_e_invoices_on_a_customer_needs_a_country(tenant_a, facturx_on):
    with scoping.scope(tenant_a), pytest.raises(ValidationError) as refused:
        customer_create(name="Nowhere Ltd", country="")

    assert "country" in refused.value.message_dict


def test_an_invoice_issued_before_e_invoices_were_on_stays_a_plain_pdf(
    client, alice, tenant_a, issue
):
    invoice = issue(20)
    with scoping.scope(tenant_a):
        billing_settings_set(facturx=True)
    client.force_login(alice)

    response = client.get(pdf_url(invoice))

    assert not invoice.facturx and attachments(response.content) == {}
    assert pdfa_level(response.content) is None
    assert {"no XMP metadata", "no embedded file"} <= set(pdfa3_problems(response.content))


def test_the_api_refuses_e_invoices_without_the_details_naming_each_and_changes_nothing(
    api, keys, tenant_a
):
    admin = api(keys[ApiKeyRole.ADMIN])
    url = reverse("api:billing-settings")
    before = admin.get(url).json()

    refused = admin.patch(url, {"facturx": True, "legal_name": "Harbour GmbH"}, format="json")

    assert refused.status_code == 400
    assert {"street", "vat_id"} <= set(refused.json()["error"]["fields"])
    assert admin.get(url).json() == before
    changed = admin.patch(url, {**SELLER, "cost_update_seconds": 120}, format="json")
    assert changed.status_code == 200
    assert changed.json()["cost_update_seconds"] == 120
    assert admin.patch(url, {"facturx": True}, format="json").json()["facturx"] is True
