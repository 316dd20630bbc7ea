"""The reservation pages: the charger page shows active reservations and, to operators, the
reserve form; bad input is a form error by the field; the list filters; cancelling."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.reservations.models import Reservation, ReservationStatus
from cpms.catalogs import compile_catalogs
from cpms.models import User
from cpms.tenancy import scoping


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


def charger_page(client, station):
    url = reverse("charger_detail", kwargs={"tenant_slug": "tenant-a", "pk": station.pk})
    return client.get(url).content.decode()


def test_the_charger_page_shows_active_reservations_and_operators_the_form(
    client_for, olga, bob, station, tokens, tenant_a
):
    reservation = accepted(station, tenant_a, evse_id=2)

    page = charger_page(client_for(olga), station)
    assert f'data-reservation="{reservation.pk}"' in page and "04DRIVER" in page
    assert "data-reserve" in page and "Any connector" in page and "Connector 2" in page
    viewer_page = charger_page(client_for(bob), station)
    assert f'data-reservation="{reservation.pk}"' in viewer_page
    assert "data-reserve" not in viewer_page


def reserve_url(station):
    return reverse("reservation_create", kwargs={"tenant_slug": "tenant-a", "pk": station.pk})


def test_an_operator_reserves_from_the_charger_page(client_for, olga, station, tokens, tenant_a):
    until = (timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")

    response = client_for(olga).post(
        reserve_url(station), {"evse_id": "", "id_token": "04DRIVER", "expires_at": until}
    )

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        reservation = Reservation.objects.get()
    assert reservation.evse_id is None and reservation.created_by == olga
    assert reservation.status == ReservationStatus.REQUESTED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id_token": "04LOST"}, "id_token"),
        ({"id_token": "04NOBODY"}, "id_token"),
        ({"expires_at": "2020-01-01T10:00"}, "expires_at"),
        ({"evse_id": "9"}, "evse_id"),
    ],
)
def test_bad_input_is_a_form_error_by_its_field(
    client_for, olga, station, tokens, tenant_a, data, field
):
    until = (timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    form = {"evse_id": "1", "id_token": "04DRIVER", "expires_at": until, **data}

    response = client_for(olga).post(reserve_url(station), form)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    with scoping.scope(tenant_a):
        assert not Reservation.objects.exists()


def test_the_list_filters(client_for, bob, station, tokens, tenant_a):
    holding = accepted(station, tenant_a, evse_id=1)
    used = accepted(station, tenant_a, evse_id=2, status=ReservationStatus.USED)
    url = reverse("reservation_list", kwargs={"tenant_slug": "tenant-a"})
    client = client_for(bob)

    def shown(**query):
        rows = client.get(url, query).context["page"]
        return {row.pk for row in rows}

    assert shown() == {holding.pk, used.pk}
    assert shown(active="yes") == {holding.pk}
    assert shown(status="used", charger=str(station.pk)) == {used.pk}


def test_an_operator_cancels_from_the_list(client_for, olga, station, tokens, tenant_a):
    reservation = accepted(station, tenant_a, evse_id=1)
    url = reverse("reservation_cancel", kwargs={"tenant_slug": "tenant-a", "pk": reservation.pk})

    response = client_for(olga).post(url, {"next": "charger"})

    assert response.status_code == 302 and response["Location"].endswith(f"/chargers/{station.pk}/")
    with scoping.scope(tenant_a):
        reservation.refresh_from_db()
    assert reservation.cancel_requested_at is not None


def test_a_german_form_keeps_the_time_in_the_browser_s_own_format(
    client_for, olga, station, tokens, tenant_a
):
    compile_catalogs()
    User.objects.filter(pk=olga.pk).update(language="de")
    until = (timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")

    response = client_for(olga).post(
        reserve_url(station), {"evse_id": "1", "id_token": "04NOBODY", "expires_at": until}
    )

    page = response.content.decode()
    # A datetime-local input reads only ISO 8601: "06.12.2026 19:00:00" would leave it empty.
    assert f'type="datetime-local" name="expires_at" value="{until}"' in page
    assert "Kein ID-Token dieses Mandanten hat diese UID." in page
    assert "<h1>Anschluss reservieren</h1>" in page
