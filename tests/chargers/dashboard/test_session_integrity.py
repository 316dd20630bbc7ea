"""Sessions' integrity flags on the sessions pages (badges with their explanation, a filter,
the CSV column) and the charger settings' time after which sessions left open are closed."""

import csv
import io

import pytest
from django.urls import reverse

from chargers.models import ChargingSession
from cpms.models import Tenant
from cpms.tenancy import scoping

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspect(world, tenant_a):
    """Tenant A's session, dated by the server because the charger's clock was implausible."""
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=world["session"].pk).update(timestamp_suspect=True)
    return world["session"]


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_the_list_shows_a_badge_with_its_explanation(client_for, bob, suspect):
    page = client_for(bob).get(url("session_list")).content.decode()
    assert 'data-flag="clock_suspect" title="The charger reported an implausible time' in page


@pytest.mark.parametrize(
    ("value", "shown"), [("any", True), ("clock_suspect", True), ("stale_closed", False)]
)
def test_the_list_filters_by_flag(client_for, bob, suspect, value, shown):
    page = client_for(bob).get(url("session_list"), {"integrity": value}).content.decode()
    assert (f'data-session="{suspect.pk}"' in page) is shown


def test_the_detail_explains_each_flag(client_for, bob, suspect):
    page = client_for(bob).get(url("session_detail", pk=suspect.pk)).content.decode()
    assert 'data-flag="clock_suspect"' in page
    assert "receipt time stands in for it" in page


def test_the_csv_download_has_the_flags(client_for, bob, suspect):
    response = client_for(bob).get(url("session_export"), {"integrity": "clock_suspect"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response).decode())))
    assert [row["integrity"] for row in rows] == ["clock_suspect"]


def test_another_tenant_sees_none_of_them(client_for, charlie, suspect):
    client = client_for(charlie)
    page = client.get(
        reverse("session_list", kwargs={"tenant_slug": "tenant-b"}), {"integrity": "any"}
    ).content.decode()
    assert f'data-session="{suspect.pk}"' not in page
    assert client.get(url("session_detail", pk=suspect.pk)).status_code == 404


def settings_form(**values):
    return {
        "action": "settings",
        "heartbeat_interval": "300",
        "offline_after_heartbeats": "3",
        "version_change": "follow",
        **values,
    }


def test_an_admin_sets_the_time_and_empty_means_never(client_for, alice, tenant_a):
    client = client_for(alice)
    assert (
        'name="close_sessions_after_hours" value="48"'
        in client.get(url("fleet_settings")).content.decode()
    )
    assert (
        client.post(
            url("fleet_settings"), settings_form(close_sessions_after_hours="6")
        ).status_code
        == 302
    )
    assert Tenant.objects.get(pk=tenant_a.pk).settings["close_sessions_after_hours"] == 6
    client.post(url("fleet_settings"), settings_form(close_sessions_after_hours=""))
    assert Tenant.objects.get(pk=tenant_a.pk).settings["close_sessions_after_hours"] == 0


def test_a_bad_time_is_refused_on_its_field(client_for, alice, tenant_a):
    response = client_for(alice).post(
        url("fleet_settings"), settings_form(close_sessions_after_hours="-2")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["close_sessions_after_hours"]
    assert "close_sessions_after_hours" not in Tenant.objects.get(pk=tenant_a.pk).settings


def test_a_viewer_cannot_change_it(client_for, bob, tenant_a):
    response = client_for(bob).post(
        url("fleet_settings"), settings_form(close_sessions_after_hours="1")
    )
    assert response.status_code in (403, 404)
    assert "close_sessions_after_hours" not in Tenant.objects.get(pk=tenant_a.pk).settings
