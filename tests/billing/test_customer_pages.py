"""The dashboard's customer pages: the list, a customer with its groups, tokens, sessions and
invoices, and the admin's form. Roles and charlie's 404 are in the page matrix
(tests/cpms/test_pages.py)."""

import pytest
from django.urls import reverse

from billing.models import Customer, CustomerGroup
from chargers.models import IdToken
from cpms.tenancy import scoping


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_a_customer_s_page_shows_its_groups_tokens_sessions_and_invoices(
    client, bob, tenant_a, issue
):
    invoice = issue(20)
    client.force_login(bob)

    page = client.get(url("customer_detail", pk=invoice.customer_id)).content.decode()

    assert "<h1>Harbour Logistics</h1>" in page
    assert ">FLEET-A</a>" in page and ">CARD-A</a>" in page
    with scoping.scope(tenant_a):
        session = invoice.lines.get().cdr.session
    assert f'data-session="{session.pk}"' in page and "20.00 kWh" in page
    assert f'data-invoice="{invoice.pk}"' in page and "INV-000001" in page
    # bob is a viewer: he reads, and is offered no edit.
    assert url("customer_edit", pk=invoice.customer_id) not in page


def test_the_list_names_each_customer_s_groups_and_counts_its_invoices(
    client, bob, tenant_a, issue
):
    invoice = issue(20)
    client.force_login(bob)

    page = client.get(url("customer_list")).content.decode()

    row = page.split(f'data-customer="{invoice.customer_id}"')[1].split("</tr>")[0]
    assert "Harbour Logistics" in row and "FLEET-A" in row and '">1</td>' in row


def test_an_admin_creates_a_customer_owning_a_group(client, alice, tenant_a):
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="STAFF")
    client.force_login(alice)

    response = client.post(
        url("customer_create"),
        {"name": "Acme Employer", "kind": "employer", "country": "de", "groups": [group.pk]},
    )

    with scoping.scope(tenant_a):
        customer = Customer.objects.get(name="Acme Employer")
        assert customer.country == "DE" and customer.kind == "employer"
        assert list(customer.groups.values_list("group__uid", flat=True)) == ["STAFF"]
    assert response.status_code == 302
    assert response["Location"] == url("customer_detail", pk=customer.pk)


def test_an_admin_edits_a_customer_and_its_groups(client, alice, tenant_a, fleet_customer):
    with scoping.scope(tenant_a):
        other = IdToken.objects.create(uid="FLEET-B")
    client.force_login(alice)
    form = client.get(url("customer_edit", pk=fleet_customer.pk)).content.decode()
    assert "Harbour Logistics" in form and "selected" in form

    client.post(
        url("customer_edit", pk=fleet_customer.pk),
        {"name": "Harbour Logistics SE", "kind": "fleet", "country": "DE", "groups": [other.pk]},
    )

    with scoping.scope(tenant_a):
        fleet_customer.refresh_from_db()
        assert fleet_customer.name == "Harbour Logistics SE"
        assert list(fleet_customer.groups.values_list("group__uid", flat=True)) == ["FLEET-B"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "kind": "fleet"}, "name", "This field is required."),
        ({"name": "X", "kind": "fleet", "country": "D1"}, "country", "ISO 3166 alpha-2"),
        ({"name": "X", "kind": "shop"}, "kind", "Select a valid choice."),
    ],
)
def test_bad_input_is_named_beside_its_field_and_saves_nothing(
    client, alice, tenant_a, data, field, message
):
    client.force_login(alice)

    response = client.post(url("customer_create"), data)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    with scoping.scope(tenant_a):
        assert not Customer.objects.exists()


def test_a_group_billed_to_another_customer_is_refused_beside_the_groups(
    client, alice, tenant_a, fleet_customer
):
    with scoping.scope(tenant_a):
        group = fleet_customer.groups.get().group
    client.force_login(alice)

    response = client.post(
        url("customer_create"), {"name": "Poacher", "kind": "fleet", "groups": [group.pk]}
    )

    assert "billed to Harbour Logistics already" in str(response.context["form"].errors["groups"])
    with scoping.scope(tenant_a):
        assert not Customer.objects.filter(name="Poacher").exists()
        assert CustomerGroup.objects.get(group=group).customer_id == fleet_customer.pk


def test_another_tenant_s_group_cannot_be_chosen(client, alice, tenant_a, tenant_b):
    with scoping.scope(tenant_b):
        foreign = IdToken.objects.create(uid="B-GROUP")
    client.force_login(alice)

    response = client.post(
        url("customer_create"), {"name": "Sneaky", "kind": "fleet", "groups": [foreign.pk]}
    )

    assert "groups" in response.context["form"].errors
    with scoping.scope(tenant_a):
        assert not Customer.objects.exists()
