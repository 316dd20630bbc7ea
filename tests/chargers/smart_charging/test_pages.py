"""The site's load-management page (the plan with reasons, the tree) and its editor (admins
only): what each persona sees and may change."""

import pytest
from django.urls import reverse

from chargers.smart_charging import services
from chargers.smart_charging.models import Circuit, GridLimitWindow, SiteElectrical
from cpms.tenancy import scoping


def url(world, name="site_load"):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", "pk": world["site"].pk})


def test_a_viewer_sees_the_plan_with_its_reasons_and_the_tree(client, world, bob, tenant_a):
    with scoping.scope(tenant_a):
        services.plan_compute(site=world["site"], trigger="test")
    client.force_login(bob)
    page = client.get(url(world)).content.decode()
    assert "offline without a limit it accepted: counted at 32 A" in page
    assert "Board A" in page and "25.0 A from" in page  # the circuit and the DSO's signal
    assert "Edit tree and limits" not in page


def test_an_admin_sets_the_grid_connection_and_the_plan_follows(client, world, alice, tenant_a):
    client.force_login(alice)
    response = client.post(
        url(world, "site_load_edit"),
        {"form": "grid", "grid-managed": "on", "grid-grid_limit_a": "50", "grid-sharing": "need",
         "grid-min_current_a": "6"},
    )  # fmt: skip
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        electrical = SiteElectrical.objects.get(site=world["site"])
    assert electrical.grid_limit_a == 50 and electrical.sharing == "need"


def test_an_admin_adds_a_circuit_below_another_and_wires_a_charger(client, world, alice, tenant_a):
    client.force_login(alice)
    added = client.post(
        url(world, "site_load_edit"),
        {"form": "circuit", "circuit-name": "Bay 2", "circuit-limit_a": "16",
         "circuit-phases": "L1", "circuit-parent": world["circuit"].pk},
    )  # fmt: skip
    assert added.status_code == 302
    with scoping.scope(tenant_a):
        bay = Circuit.objects.get(name="Bay 2")
    assert bay.parent_id == world["circuit"].pk
    wired = client.post(
        url(world, "site_load_edit"),
        {"form": "wiring", "wiring-charger": world["charger"].pk, "wiring-circuit": bay.pk,
         "wiring-phases": "L1", "wiring-max_current_a": "16"},
    )  # fmt: skip
    assert wired.status_code == 302
    world["wiring"].refresh_from_db()
    assert world["wiring"].circuit_id == bay.pk and world["wiring"].phases == "L1"


def test_an_admin_adds_an_evening_limit(client, world, alice, tenant_a):
    client.force_login(alice)
    response = client.post(
        url(world, "site_load_edit"),
        {"form": "window", "window-starts": "16:00", "window-ends": "19:00",
         "window-limit_a": "20"},
    )  # fmt: skip
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert GridLimitWindow.objects.filter(limit_a=20).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"form": "circuit", "circuit-name": "board a", "circuit-limit_a": "10",
          "circuit-phases": "L1L2L3"}, "The site has a circuit of that name."),
        ({"form": "circuit", "circuit-name": "Zero", "circuit-limit_a": "0",
          "circuit-phases": "L1L2L3"}, "above 0 A"),
        ({"form": "window", "window-starts": "7", "window-ends": "08:00",
          "window-limit_a": "5"}, "Enter a valid time."),
    ],
)  # fmt: skip
def test_bad_input_shows_the_error_and_changes_nothing(
    client, world, alice, tenant_a, data, message
):
    client.force_login(alice)
    response = client.post(url(world, "site_load_edit"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with scoping.scope(tenant_a):
        assert Circuit.objects.count() == 1 and GridLimitWindow.objects.count() == 1


def test_a_viewer_cannot_edit_the_tree(client, world, bob, tenant_a):
    client.force_login(bob)
    response = client.post(
        url(world, "site_load_edit"),
        {"form": "window", "window-starts": "16:00", "window-ends": "19:00",
         "window-limit_a": "20"},
    )  # fmt: skip
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert GridLimitWindow.objects.count() == 1


def test_charlie_gets_404_on_tenant_as_load_pages(client, world, charlie):
    client.force_login(charlie)
    assert client.get(url(world)).status_code == 404
    assert client.post(url(world, "site_load_edit"), {"form": "grid"}).status_code == 404
