"""The dashboard's tariff pages: the editor, the price preview and the priced session."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import RunningCost, Tariff
from chargers.models import ChargingSession
from cpms.tenancy import scoping

ELEMENTS = [
    {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 19, "step_size": 1}]},
    {
        "price_components": [{"type": "ENERGY", "price": 0.39, "vat": 19, "step_size": 1}],
        "restrictions": {"start_time": "07:00", "end_time": "22:00"},
    },
    {"price_components": [{"type": "ENERGY", "price": 0.29, "vat": 19, "step_size": 1}]},
    {
        "price_components": [{"type": "PARKING_TIME", "price": 6.0, "vat": 19, "step_size": 300}],
        "restrictions": {"start_time": "07:00", "end_time": "20:00"},
    },
]


def form(**changes):
    return {
        "name": "Public AC",
        "currency": "EUR",
        "elements": json.dumps(ELEMENTS),
        "parking_grace_minutes": 30,
        **changes,
    }


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.fixture
def public_ac(client, alice, tenant_a):
    client.force_login(alice)
    response = client.post(url("tariff_create"), form())
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        return Tariff.objects.get()


def test_an_admin_creates_a_tariff_in_the_editor(public_ac, tenant_a):
    with scoping.scope(tenant_a):
        current = public_ac.current
    assert public_ac.name == "Public AC" and current.parking_grace_minutes == 30
    assert current.elements[1]["restrictions"] == {"start_time": "07:00", "end_time": "22:00"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"elements": "[{"}, "Not JSON"),
        (
            {
                "elements": json.dumps(
                    [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 0}]}]
                )
            },
            "elements.0.price_components.0.step_size",
        ),
        ({"currency": "XYZ1"}, "currency"),
    ],
)
def test_a_bad_tariff_shows_the_error_and_saves_nothing(client, alice, tenant_a, changes, message):
    client.force_login(alice)

    response = client.post(url("tariff_create"), form(**changes))

    assert response.status_code == 200
    assert message.encode() in response.content or b"currency" in response.content
    with scoping.scope(tenant_a):
        assert not Tariff.objects.exists()


def test_editing_the_terms_makes_the_next_version(client, public_ac, tenant_a):
    elements = [{"price_components": [{"type": "ENERGY", "price": 0.45}]}]

    response = client.post(url("tariff_edit", pk=public_ac.pk), form(elements=json.dumps(elements)))

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert sorted(public_ac.versions.values_list("number", flat=True)) == [1, 2]


def test_the_preview_says_what_a_friday_evening_costs(client, public_ac):
    query = {
        "start": "2026-03-06 17:40",
        "hours": 2,
        "minutes": 10,
        "energy_kwh": 22,
        "charging_minutes": 90,
    }

    response = client.get(url("tariff_detail", pk=public_ac.pk), query)

    text = response.content.decode()
    assert "A 22 kWh session starting Friday 17:40 for 2 h 10 min costs" in text
    assert "€12.00" in text and "€10.08" in text


def test_a_viewer_sees_the_tariff_but_cannot_edit_it(client, public_ac, bob):
    client.force_login(bob)

    assert client.get(url("tariff_detail", pk=public_ac.pk)).status_code == 200
    assert client.post(url("tariff_edit", pk=public_ac.pk), form(name="x")).status_code == 403


def test_an_admin_assigns_a_tariff_to_a_site_and_removes_it(client, public_ac, site_a, tenant_a):
    response = client.post(
        url("tariff_assign", pk=public_ac.pk), {"site": site_a.pk, "priority": 0}
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assignment = public_ac.assignments.get()
    assert assignment.site == site_a
    client.post(url("tariff_assignment_remove", pk=assignment.pk))
    with scoping.scope(tenant_a):
        assert not public_ac.assignments.exists()


def test_the_session_page_shows_its_price(client, alice, standard_tariff, charge, eager):
    session = charge(kwh=20)
    client.force_login(alice)

    response = client.get(url("session_detail", pk=session.pk))

    text = response.content.decode()
    assert "€7.14" in text and "€6.00" in text and "Standard" in text


def test_the_records_download_is_csv(client, alice, standard_tariff, charge, eager):
    session = charge(kwh=20)
    client.force_login(alice)

    response = client.get(url("cdr_export"), {"session": session.pk})

    text = b"".join(response.streaming_content).decode()
    assert f",{session.pk},1,no," in text.splitlines()[1] and ",6.00,7.14," in text


def test_saving_the_editor_unchanged_makes_no_new_version(client, public_ac, tenant_a):
    with scoping.scope(tenant_a):
        elements = json.dumps(public_ac.current.elements)

    response = client.post(
        url("tariff_edit", pk=public_ac.pk), form(name="Public AC (city)", elements=elements)
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        public_ac.refresh_from_db()
        assert public_ac.name == "Public AC (city)" and public_ac.versions.count() == 1


def test_the_page_of_a_running_session_shows_its_cost_so_far(client, alice, tenant_a, charger):
    with scoping.scope(tenant_a):
        session = ChargingSession.objects.create(
            charger=charger,
            transaction_id="1",
            evse_id=1,
            connector_id=1,
            started_at=timezone.now(),
        )
        RunningCost.objects.create(
            session=session, amount=Decimal("4.57"), currency="EUR", sent_at=timezone.now()
        )
    client.force_login(alice)

    response = client.get(url("session_detail", pk=session.pk))

    # The live channel's session.cost writes into the same element.
    assert f'data-session-cost="{session.pk}">€4.57<' in response.content.decode()
