"""Customers and invoices through the REST API, and the monthly beat job."""

import pytest
from django.conf import settings
from django.urls import reverse

from billing.models import Invoice
from billing.services import customer_create
from billing.tasks import issue_invoices
from chargers.models import IdToken
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping


@pytest.fixture
def fleet_card(tenant_a, standard_tariff):
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="FLEET-A")
        IdToken.objects.create(uid="CARD-A", group=group)
        customer_create(name="Harbour Logistics", groups=[group])
        return group


def test_the_beat_job_invoices_the_month_that_ended(tenant_a, fleet_card, charge, eager):
    charge(kwh=20, id_tag="CARD-A")

    issue_invoices()
    issue_invoices()

    with scoping.scope(tenant_a):
        (invoice,) = Invoice.objects.all()
    assert (invoice.display_number, invoice.total_incl_vat_minor) == ("INV-000001", 714)


def test_an_invoice_shows_its_number_lines_and_totals(
    api, keys, tenant_a, fleet_card, charge, eager
):
    session = charge(kwh=20, id_tag="CARD-A")
    issue_invoices()

    (body,) = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:invoice-list")).json()["results"]

    assert body["number"] == "INV-000001" and body["kind"] == "invoice"
    assert (body["total_excl_vat"], body["total_incl_vat"]) == ("6.00", "7.14")
    assert body["lines"][0]["session"] == session.pk
    assert body["vat_groups"] == [{"vat": "19", "base": "6.00", "amount": "1.14"}]


def test_an_admin_credits_an_invoice_once_and_a_viewer_cannot(
    api, keys, tenant_a, fleet_card, charge, eager
):
    charge(kwh=20, id_tag="CARD-A")
    issue_invoices()
    with scoping.scope(tenant_a):
        invoice = Invoice.objects.get()
    url = reverse("api:invoice-credit", kwargs={"pk": invoice.pk})
    body = {"reason": "Miscalibrated meter"}

    assert api(keys[ApiKeyRole.READ_ONLY]).post(url, body, format="json").status_code == 403
    first = api(keys[ApiKeyRole.ADMIN]).post(url, body, format="json")
    second = api(keys[ApiKeyRole.ADMIN]).post(url, body, format="json")

    assert first.status_code == 201
    assert first.json()["number"] == "CN-000001" and first.json()["total_incl_vat"] == "-7.14"
    assert second.status_code == 400


def test_a_group_is_billed_to_one_customer(api, keys, fleet_card):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:customer-list"),
        {"name": "Someone else", "groups": [fleet_card.pk]},
        format="json",
    )

    assert response.status_code == 400
    assert "groups" in response.json()["error"]["fields"]


def test_charlie_sees_no_invoice_of_tenant_a(api, keys, world):
    charlie = api(keys["charlie"])

    assert charlie.get(reverse("api:invoice-list")).json()["results"] == []
    detail = reverse("api:invoice-detail", kwargs={"pk": world["invoice"].pk})
    assert charlie.get(detail).status_code == 404


def test_the_invoice_page_is_a_printable_document(
    client, alice, tenant_a, fleet_card, charge, eager
):
    charge(kwh=20, id_tag="CARD-A")
    issue_invoices()
    with scoping.scope(tenant_a):
        invoice = Invoice.objects.get()
    client.force_login(alice)

    listed = client.get(reverse("invoice_list", kwargs={"tenant_slug": "tenant-a"}))
    page = client.get(
        reverse("invoice_detail", kwargs={"tenant_slug": "tenant-a", "pk": invoice.pk})
    )

    assert b"INV-000001" in listed.content and b"Harbour Logistics" in listed.content
    text = page.content.decode()
    assert "Invoice INV-000001" in text and "€7.14" in text and "VAT 19 %" in text
    # The print layout: the page's chrome is marked, and the stylesheet hides it in print (the
    # CSP allows no inline style).
    assert 'class="heading no-print"' in text and 'class="card invoice"' in text
    css = (settings.BASE_DIR / "static" / "cpms" / "app.css").read_text()
    assert "@media print" in css and ".no-print" in css
