"""charlie (tenant B's admin) reaches nothing of tenant A's billing: every tariff, preview,
assignment, record, invoice and statement document of A is a 404 to him, as an id that never
existed; his writes naming A's rows are refused with the field named. (The route matrix in
tests/cpms/api/ tries every route too; these say it for billing in so many words.)"""

import pytest
from django.urls import reverse

from billing.models import Tariff, TariffAssignment
from billing.services import tariff_create
from cpms.tenancy import scoping

PREVIEW = {
    "start": "2026-03-06T17:40:00+01:00",
    "charging_end": "2026-03-06T19:10:00+01:00",
    "end": "2026-03-06T19:50:00+01:00",
    "energy_kwh": 22,
}


@pytest.fixture
def as_charlie(api, keys):
    return api(keys["charlie"])


@pytest.mark.parametrize(
    ("route", "method", "obj", "body"),
    [
        ("tariff-detail", "get", "tariff", None),
        ("tariff-detail", "patch", "tariff", {"name": "Mine now"}),
        ("tariff-detail", "delete", "tariff", None),
        ("tariff-price", "post", "tariff", PREVIEW),
        ("tariff-assignment-detail", "get", "tariff_assignment", None),
        ("tariff-assignment-detail", "patch", "tariff_assignment", {"priority": 99}),
        ("tariff-assignment-detail", "delete", "tariff_assignment", None),
        ("cdr-detail", "get", "cdr", None),
        ("invoice-pdf", "get", "invoice", None),
        ("invoice-lines-export", "get", "invoice", None),
        ("statement-pdf", "get", "statement", None),
    ],
)
def test_charlie_gets_404_for_every_billing_row_of_tenant_a(
    as_charlie, world, tenant_a, route, method, obj, body
):
    url = reverse(f"api:{route}", kwargs={"pk": world[obj].pk})

    response = getattr(as_charlie, method)(url, body, format="json")

    assert response.status_code == 404
    with scoping.scope(tenant_a):
        tariff = Tariff.objects.get(pk=world["tariff"].pk)
        assert tariff.name == "Tariff A" and tariff.archived_at is None
        assert TariffAssignment.objects.get(pk=world["tariff_assignment"].pk).priority == 0


def test_charlie_lists_none_of_tenant_a_s_records(as_charlie, world):
    listed = as_charlie.get(reverse("api:cdr-list"), {"session": world["session"].pk}).json()

    assert listed["results"] == []
    assert as_charlie.get(reverse("api:tariff-list")).json()["results"] == []


def test_charlie_cannot_assign_tenant_a_s_tariff(as_charlie, world):
    response = as_charlie.post(
        reverse("api:tariff-assignment-list"), {"tariff": world["tariff"].pk}, format="json"
    )

    assert response.status_code == 400
    assert "tariff" in response.json()["error"]["fields"]


def test_charlie_cannot_preview_with_tenant_a_s_group(as_charlie, api, keys, world, tenant_b):
    with scoping.scope(tenant_b):
        own = tariff_create(
            name="B",
            currency="USD",
            elements=[{"price_components": [{"type": "ENERGY", "price": 0.2}]}],
        )
    url = reverse("api:tariff-price", kwargs={"pk": own.pk})

    response = as_charlie.post(url, {**PREVIEW, "group": world["id_token"].pk}, format="json")

    assert response.status_code == 400
    assert "group" in response.json()["error"]["fields"]
