"""Tariffs, price previews and charge detail records through the REST API."""

from datetime import timedelta

import pytest
from django.urls import reverse

from billing.models import ChargeDetailRecord, Tariff
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.billing.tariffs import T0

TARIFF = {
    "name": "Public AC",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 19, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.39, "vat": 19, "step_size": 1}],
            "restrictions": {"start_time": "07:00", "end_time": "22:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.29, "vat": 19, "step_size": 1}]},
        {
            "price_components": [
                {"type": "PARKING_TIME", "price": 6.0, "vat": 19, "step_size": 300}
            ],
            "restrictions": {"start_time": "07:00", "end_time": "20:00"},
        },
    ],
    "max_price": {"excl_vat": 60, "incl_vat": 71.4},
    "parking_grace_minutes": 30,
}
FRIDAY_EVENING = {
    "start": "2026-03-06T17:40:00+01:00",
    "charging_end": "2026-03-06T19:10:00+01:00",
    "end": "2026-03-06T19:50:00+01:00",
    "energy_kwh": 22,
}


@pytest.fixture
def admin(api, keys):
    return api(keys[ApiKeyRole.ADMIN])


@pytest.fixture
def created(admin):
    response = admin.post(reverse("api:tariff-list"), TARIFF, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_takes_and_shows_ocpi_fields(created):
    for field in ("currency", "elements", "max_price", "name", "parking_grace_minutes"):
        assert created[field] == TARIFF[field], field
    assert created["min_price"] is None and created["start_date_time"] is None
    assert created["version"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "EURO"}, "currency"),
        ({"elements": []}, "elements"),
        (
            {"elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 0}]}]},
            "elements.0.price_components.0.step_size",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "ENERGY", "price": 1}],
                        "restrictions": {"start_time": "7am"},
                    }
                ]
            },
            "elements.0.restrictions.start_time",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "ENERGY", "price": 1}],
                        "restrictions": {"min_kwh": 5, "max_kwh": 1},
                    }
                ]
            },
            "elements.0.restrictions.max_kwh",
        ),
        (
            {
                "max_price": {"excl_vat": 10},
                "elements": [
                    {"price_components": [{"type": "FLAT", "price": 1, "vat": 7}]},
                    {"price_components": [{"type": "ENERGY", "price": 1, "vat": 19}]},
                ],
            },
            "max_price.incl_vat",
        ),
        (
            {"end_date_time": "2020-01-01T00:00:00Z", "start_date_time": "2021-01-01T00:00:00Z"},
            "end_date_time",
        ),
    ],
)
def test_a_bad_tariff_is_a_400_naming_the_field_and_writes_nothing(admin, tenant_a, change, field):
    elements = TARIFF["elements"][:2]
    body = {**TARIFF, "elements": elements, "max_price": None, **change}

    response = admin.post(reverse("api:tariff-list"), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    with scoping.scope(tenant_a):
        assert not Tariff.objects.exists()


def test_a_change_of_terms_is_a_new_version(admin, created):
    url = reverse("api:tariff-detail", kwargs={"pk": created["id"]})
    elements = [{"price_components": [{"type": "ENERGY", "price": 0.45, "step_size": 1}]}]

    response = admin.patch(url, {"elements": elements}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and [v["version"] for v in body["versions"]] == [2, 1]
    assert body["elements"] == elements and body["max_price"] == TARIFF["max_price"]


def test_a_rename_is_no_new_version(admin, created):
    url = reverse("api:tariff-detail", kwargs={"pk": created["id"]})

    body = admin.patch(url, {"name": "Public AC 2026"}, format="json").json()

    assert body["name"] == "Public AC 2026" and body["version"] == 1


def test_a_tariff_keeps_its_currency(admin, created):
    url = reverse("api:tariff-detail", kwargs={"pk": created["id"]})

    response = admin.patch(url, {"currency": "CHF"}, format="json")

    assert response.status_code == 400
    assert "currency" in response.json()["error"]["fields"]


def test_a_change_takes_effect_now_or_later_never_before(admin, created):
    url = reverse("api:tariff-detail", kwargs={"pk": created["id"]})

    response = admin.patch(url, {"effective_from": "2020-01-01T00:00:00Z"}, format="json")

    assert response.status_code == 400
    assert "effective_from" in response.json()["error"]["fields"]


def test_the_preview_prices_a_friday_evening(admin, created):
    url = reverse("api:tariff-price", kwargs={"pk": created["id"]})

    response = admin.post(url, FRIDAY_EVENING, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    # Berlin, tenant A's zone: 22 kWh before 22:00 at 0.39, the 0.50 start fee, 40 min parked
    # of which 30 are grace and 10 before 20:00 at 6.00/h.
    assert body["total_cost"] == {"excl_vat": "10.08", "incl_vat": "12.00"}
    assert (body["total_energy"], body["total_time"], body["total_parking_time"]) == (
        "22.000000",
        "2.166667",
        "0.666667",
    )
    assert [line["type"] for line in body["lines"]] == ["ENERGY", "FLAT", "PARKING_TIME"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"charging_end": "2026-03-06T17:00:00+01:00"}, "charging_end"),
        ({"end": "2026-03-06T19:00:00+01:00"}, "end"),
        ({"energy_kwh": -1}, "energy_kwh"),
        ({"end": "2026-04-06T19:00:00+01:00"}, "end"),
        ({"group": 999999}, "group"),
    ],
)
def test_a_bad_preview_is_a_400_naming_the_field(admin, created, change, field):
    url = reverse("api:tariff-price", kwargs={"pk": created["id"]})

    response = admin.post(url, {**FRIDAY_EVENING, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_viewer_previews_but_cannot_write(api, keys, created):
    viewer = api(keys[ApiKeyRole.READ_ONLY])
    price = reverse("api:tariff-price", kwargs={"pk": created["id"]})
    detail = reverse("api:tariff-detail", kwargs={"pk": created["id"]})

    assert viewer.post(price, FRIDAY_EVENING, format="json").status_code == 200
    assert viewer.patch(detail, {"name": "Mine"}, format="json").status_code == 403
    assert viewer.post(reverse("api:tariff-list"), TARIFF, format="json").status_code == 403


def test_deleting_withdraws_the_tariff(admin, created, tenant_a):
    url = reverse("api:tariff-detail", kwargs={"pk": created["id"]})

    assert admin.delete(url).status_code == 204

    assert admin.get(url).status_code == 404
    with scoping.scope(tenant_a):
        assert Tariff.objects.get(pk=created["id"]).archived_at is not None


def test_an_assignment_to_two_places_is_refused(admin, created, world):
    body = {"tariff": created["id"], "site": world["site"].pk, "charger": world["charger"].pk}

    response = admin.post(reverse("api:tariff-assignment-list"), body, format="json")

    assert response.status_code == 400
    assert "charger" in response.json()["error"]["fields"]


@pytest.fixture
def priced(tenant_a, standard_tariff, charge, eager):
    session = charge(kwh=20, id_tag="=HYPERLINK(1)")
    charge(kwh=5, start=T0 + timedelta(hours=5))
    return session


def test_cdrs_of_a_session_with_ocpi_names(api, keys, priced):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:cdr-list"), {"session": priced.pk})

    assert response.status_code == 200
    (cdr,) = response.json()["results"]
    assert cdr["session"] == priced.pk
    assert cdr["total_cost"] == {"excl_vat": "6.00", "incl_vat": "7.14"}
    assert (cdr["total_energy"], cdr["total_time"], cdr["total_parking_time"]) == (
        "20.000000",
        "1.000000",
        "0.000000",
    )
    assert cdr["tariffs"][0]["name"] == "Standard" and cdr["tariffs"][0]["version"] == 1
    assert cdr["charging_periods"][0]["dimensions"][0]["type"] == "ENERGY"


def test_cdrs_filter_by_charger_and_date(api, keys, priced, charger):
    client = api(keys[ApiKeyRole.READ_ONLY])
    url = reverse("api:cdr-list")

    by_charger = client.get(url, {"charger": charger.pk}).json()["results"]
    later = client.get(url, {"started_after": (T0 + timedelta(hours=1)).isoformat()}).json()

    assert len(by_charger) == 2
    assert [c["total_energy"] for c in later["results"]] == ["5.000000"]


def test_the_csv_export_neutralises_formulas(api, keys, priced, tenant_a):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:cdr-export"))

    text = b"".join(response.streaming_content).decode()
    header, first, *_ = text.splitlines()
    assert header.startswith("cdr_id,session_id,version")
    assert "'=HYPERLINK(1)" in first and ",6.00,7.14," in first
    with scoping.scope(tenant_a):
        assert ChargeDetailRecord.objects.count() == 2
