"""Reservations in the REST API: created with 202 and a URL to poll, refused with the field
named, listed with filters, cancelled; the route matrix (tests/cpms/api) tries each route as
every role and as charlie (tenant B)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.reservations.models import Reservation, ReservationStatus
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping


@pytest.fixture
def operator(api, keys):
    return api(keys[ApiKeyRole.OPERATOR])


def body(station, **changes):
    data = {
        "charger": station.pk,
        "evse_id": 1,
        "id_token": "04DRIVER",
        "expires_at": (timezone.now() + timedelta(hours=2)).isoformat(),
    }
    return {key: value for key, value in {**data, **changes}.items() if value is not ...}


def test_an_operator_reserves_and_polls_the_url_given(operator, station, tokens, tenant_a):
    response = operator.post(reverse("api:reservation-list"), body(station), format="json")

    assert response.status_code == 202, response.content
    created = response.json()
    assert response["Location"] == reverse("api:reservation-detail", kwargs={"pk": created["id"]})
    assert response["Retry-After"] == "1"
    assert created["status"] == "requested" and created["reservation_id"] == 1
    assert created["id_token"] == "04DRIVER" and created["evse_id"] == 1
    polled = operator.get(response["Location"]).json()
    assert polled["status"] == "requested"


def test_any_connector_is_an_empty_connector(operator, station, tokens):
    response = operator.post(
        reverse("api:reservation-list"), body(station, evse_id=None), format="json"
    )

    assert response.status_code == 202 and response.json()["evse_id"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"id_token": "04NOBODY"}, "id_token"),
        ({"id_token": "04LOST"}, "id_token"),
        ({"id_token": ...}, "id_token"),
        ({"evse_id": 7}, "evse_id"),
        ({"evse_id": 0}, "evse_id"),
        ({"charger": 999999}, "charger"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(operator, station, tokens, tenant_a, changes, field):
    response = operator.post(
        reverse("api:reservation-list"), body(station, **changes), format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not Reservation.objects.exists()


def test_an_offline_charger_is_a_400_naming_the_charger(operator, station, tokens, tenant_a):
    with scoping.scope(tenant_a):
        station.is_online = False
        station.save()

    response = operator.post(reverse("api:reservation-list"), body(station), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "charger": ["The charger is offline: it cannot take a reservation."]
    }


def accepted(station, tenant, **fields):
    with scoping.scope(tenant):
        values = {
            "charger": station,
            "id_tag": "04DRIVER",
            "expires_at": timezone.now() + timedelta(hours=1),
            "ocpp_id": Reservation.objects.count() + 1,
            "status": ReservationStatus.ACCEPTED,
        }
        return Reservation.objects.create(**{**values, **fields})


def test_the_list_filters_by_charger_status_and_activity(operator, station, tokens, tenant_a):
    holding = accepted(station, tenant_a, evse_id=1)
    past = accepted(station, tenant_a, evse_id=2)
    with scoping.scope(tenant_a):
        Reservation.objects.filter(pk=past.pk).update(expires_at=timezone.now() - timedelta(1))
    used = accepted(station, tenant_a, status=ReservationStatus.USED)
    url = reverse("api:reservation-list")

    def ids(**query):
        return {row["id"] for row in operator.get(url, query).json()["results"]}

    assert ids() == {holding.pk, past.pk, used.pk}
    assert ids(active="true") == {holding.pk}
    assert ids(active="false") == {past.pk, used.pk}
    assert ids(status="used") == {used.pk}
    assert ids(charger=station.pk + 1000) == set()


def test_an_operator_cancels_an_accepted_reservation(operator, station, tokens, tenant_a):
    reservation = accepted(station, tenant_a, evse_id=1)

    response = operator.post(reverse("api:reservation-cancel", kwargs={"pk": reservation.pk}))

    assert response.status_code == 202
    assert response.json()["cancel_requested_at"] is not None
    again = operator.post(reverse("api:reservation-cancel", kwargs={"pk": reservation.pk}))
    assert again.status_code == 400
    assert "being cancelled already" in again.json()["error"]["message"]


def test_a_closed_reservation_cannot_be_cancelled(operator, station, tokens, tenant_a):
    reservation = accepted(station, tenant_a, status=ReservationStatus.EXPIRED)

    response = operator.post(reverse("api:reservation-cancel", kwargs={"pk": reservation.pk}))

    assert response.status_code == 400
    with scoping.scope(tenant_a):
        reservation.refresh_from_db()
    assert reservation.cancel_requested_at is None


def test_a_viewer_reads_but_does_not_reserve(api, keys, station, tokens, tenant_a):
    viewer = api(keys[ApiKeyRole.READ_ONLY])

    assert viewer.get(reverse("api:reservation-list")).status_code == 200
    response = viewer.post(reverse("api:reservation-list"), body(station), format="json")

    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not Reservation.objects.exists()


def test_charlie_cannot_reserve_tenant_as_charger(api, keys, station, tokens, tenant_a):
    response = api(keys["charlie"]).post(
        reverse("api:reservation-list"), body(station), format="json"
    )

    assert response.status_code == 400
    assert "charger" in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not Reservation.objects.exists()
