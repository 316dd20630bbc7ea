"""Sessions' integrity flags in the API: in each session, as a filter and as the CSV's column;
the tenant's time after which sessions left open are closed, as a charger setting."""

import csv
import io

import pytest
from django.urls import reverse

from chargers.models import ChargingSession, SessionState
from cpms.models import ApiKeyRole, Tenant
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale(world, tenant_a):
    """Tenant A's session, closed by the server because its charger never sent the stop."""
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=world["session"].pk).update(
            state=SessionState.COMPLETED,
            stopped_at=world["session"].started_at,
            closed_by_server=True,
            stop_reason="No stop after 48 h",
            meter_start_wh=1000,
            meter_stop_wh=4000,
        )
    return world["session"]


def test_a_session_carries_its_flags(api, keys, stale):
    client = api(keys[ApiKeyRole.READ_ONLY])
    found = client.get(reverse("api:session-detail", args=[stale.pk])).json()
    assert found["integrity"] == ["stale_closed"]


@pytest.mark.parametrize(
    ("value", "count"), [("any", 1), ("stale_closed", 1), ("clock_suspect", 0)]
)
def test_sessions_are_filtered_by_flag(api, keys, stale, value, count):
    client = api(keys[ApiKeyRole.READ_ONLY])
    results = client.get(reverse("api:session-list"), {"integrity": value}).json()["results"]
    assert [s["id"] for s in results] == [stale.pk] * count


def test_an_unknown_flag_is_refused_naming_the_filter(api, keys, stale):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:session-list"), {"integrity": "dodgy"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["integrity"]


def test_another_tenant_finds_none_of_the_flagged_sessions(api, keys, stale):
    client = api(keys["charlie"])
    assert client.get(reverse("api:session-list"), {"integrity": "any"}).json()["results"] == []
    assert client.get(reverse("api:session-detail", args=[stale.pk])).status_code == 404


def test_the_csv_export_has_the_integrity_column(api, keys, stale):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:session-export"), {"integrity": "any"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response).decode())))
    assert [(row["session_id"], row["integrity"]) for row in rows] == [
        (str(stale.pk), "stale_closed")
    ]


def test_an_admin_sets_when_sessions_left_open_are_closed(api, keys, tenant_a):
    client = api(keys[ApiKeyRole.ADMIN])
    assert client.get(reverse("api:charger-settings")).json()["close_sessions_after_hours"] == 48
    changed = client.patch(
        reverse("api:charger-settings"), {"close_sessions_after_hours": 12}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["close_sessions_after_hours"] == 12
    assert Tenant.objects.get(pk=tenant_a.pk).settings["close_sessions_after_hours"] == 12


def test_a_read_only_key_cannot_change_it(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.READ_ONLY]).patch(
        reverse("api:charger-settings"), {"close_sessions_after_hours": 1}, format="json"
    )
    assert response.status_code in (403, 404)
    assert "close_sessions_after_hours" not in Tenant.objects.get(pk=tenant_a.pk).settings
