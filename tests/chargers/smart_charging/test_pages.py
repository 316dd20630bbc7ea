"""The site's load-management page (the plan with reasons, the current per phase over time,
the tree with its figures) and its editor (admins only): what each persona sees and may
change."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.models import IdToken, MeterSample
from chargers.smart_charging import services
from chargers.smart_charging.models import (
    Circuit,
    GridLimitWindow,
    GroupPriority,
    SiteElectrical,
)
from cpms.catalogs import compile_catalogs
from cpms.models import User
from cpms.tenancy import scoping
from tests.chargers.factories import meter_sample

CURRENT = "Current.Import"


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


# --- the load chart, the tree's figures and the what-if link -----------------------------------


def charging_now(world, tenant_a, amperes=(10, 12, 14)):
    """The world's session reads its currents per phase a minute ago, and a plan is made."""
    now = timezone.now()
    with scoping.scope(tenant_a):
        MeterSample.objects.bulk_create(
            meter_sample(world["charger"], now - timedelta(minutes=1), value, CURRENT,
                         session=world["session"], phase=phase, unit="A")
            for phase, value in zip(("L1", "L2", "L3"), amperes, strict=True)
        )  # fmt: skip
        plan, _ = services.plan_compute(site=world["site"], trigger="test")
    return plan


@pytest.mark.parametrize("persona", ["alice", "olga", "bob"])
def test_every_role_of_the_tenant_sees_the_chart_and_the_what_if(
    client, world, tenant_a, request, persona
):
    charging_now(world, tenant_a)
    client.force_login(request.getfixturevalue(persona))
    page = client.get(url(world))
    assert page.status_code == 200
    content = page.content.decode()
    for phase in ("L1", "L2", "L3"):
        assert f'data-phase="{phase}"' in content
    assert 'id="load-chart"' in content and url(world, "site_load_what_if") in content
    assert client.get(url(world, "site_load_what_if")).status_code == 200


def test_the_chart_shows_the_measured_and_planned_current_and_the_limit(
    client, world, bob, tenant_a
):
    plan = charging_now(world, tenant_a)
    client.force_login(bob)
    chart = client.get(url(world)).context["chart"]
    grid = plan.inputs["load"]["grid"]
    assert [chart[f"planned_{p}"][-1] for p in ("L1", "L2", "L3")] == [
        grid["L1"], grid["L2"], grid["L3"]
    ]  # fmt: skip
    assert [chart[f"measured_{p}"][-1] for p in ("L1", "L2", "L3")] == [10.0, 12.0, 14.0]
    assert chart["limit"][-1] == 25.0  # the DSO's signal under the 63 A connection
    assert len(chart["labels"]) == 72  # the last 6 hours in 5 minutes


@pytest.mark.parametrize(("window", "points"), [("1h", 60), ("6h", 72), ("24h", 96), ("7d", 168)])
def test_the_chart_shows_the_window_asked_for(client, world, bob, tenant_a, window, points):
    charging_now(world, tenant_a)
    client.force_login(bob)
    page = client.get(url(world), {"window": window})
    assert page.status_code == 200 and len(page.context["chart"]["labels"]) == points
    assert f'<option value="{window}" selected>' in page.content.decode()
    assert "data-window-error" not in page.content.decode()


@pytest.mark.parametrize("window", ["2d", "", "6h'><script>"])
def test_a_window_not_offered_says_so_and_shows_the_last_6_hours(client, world, bob, window):
    client.force_login(bob)
    page = client.get(url(world), {"window": window})
    assert page.status_code == 200
    assert page.context["window_key"] == "6h"
    content = page.content.decode()
    assert '<option value="6h" selected>' in content and "<script>" not in content
    if window:
        assert "is not one of the available choices. Showing the last 6 hours." in content


def test_a_site_with_nothing_measured_or_planned_says_so(client, world, bob):
    client.force_login(bob)
    page = client.get(url(world))
    assert page.context["chart"] is None
    assert "Nothing was measured or planned at this site in the last 6 hours." in (
        page.content.decode()
    )


def test_the_tree_shows_each_nodes_limit_and_its_planned_and_measured_current(
    client, world, bob, tenant_a
):
    plan = charging_now(world, tenant_a)
    client.force_login(bob)
    rows = {row["id"]: row for row in client.get(url(world)).context["node_rows"]}
    board = f"c{world['circuit'].pk}"
    assert [r["name"] for r in rows.values()] == ["Grid connection", "Board A"]
    assert (rows["grid"]["limit_a"], rows["grid"]["source"]) == (25.0, "signal from DSO")
    assert rows[board]["limit_a"] == 40.0 and rows[board]["depth"] == 1
    for node in ("grid", board):
        assert [(c["planned"], c["measured"]) for c in rows[node]["phases"]] == [
            (plan.inputs["load"][node][phase], measured)
            for phase, measured in (("L1", 10.0), ("L2", 12.0), ("L3", 14.0))
        ]


def test_charlie_gets_404_on_the_chart_and_the_what_if(client, world, charlie):
    client.force_login(charlie)
    assert client.get(url(world), {"window": "24h"}).status_code == 404
    assert client.get(url(world, "site_load_what_if")).status_code == 404
    assert client.post(url(world, "site_load_what_if"), {"keep_sessions": "on"}).status_code == 404


# --- group priorities --------------------------------------------------------------------------


def priorities(tenant="tenant-a"):
    return reverse("load_priorities", kwargs={"tenant_slug": tenant})


def test_an_admin_gives_a_group_a_priority_by_its_token(client, world, alice, tenant_a):
    client.force_login(alice)
    with scoping.scope(tenant_a):
        group = IdToken.objects.create(uid="FLEET-7", label="Vans")

    response = client.post(priorities(), {"group": "fleet-7", "priority": "6", "label": "vans"})

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert GroupPriority.objects.get(group=group).priority == 6
    page = client.get(priorities()).content.decode()
    assert "FLEET-7" in page and "vans" in page


def test_an_unknown_group_or_a_priority_out_of_range_changes_nothing(
    client, world, alice, tenant_a
):
    client.force_login(alice)
    unknown = client.post(priorities(), {"group": "NOBODY", "priority": "3"})
    too_high = client.post(priorities(), {"group": "04AABBCC", "priority": "11"})
    assert "No id token NOBODY in this tenant." in unknown.content.decode()
    assert too_high.context["form"].errors["priority"]
    with scoping.scope(tenant_a):
        assert list(GroupPriority.objects.values_list("priority", flat=True)) == [3]


def test_a_viewer_sees_the_priorities_but_cannot_change_them(client, world, bob, tenant_a):
    client.force_login(bob)
    page = client.get(priorities()).content.decode()
    assert "fleet" in page and "Remove" not in page
    removal = client.post(priorities(), {"delete": world["group_priority"].pk})
    assert removal.status_code == 403
    with scoping.scope(tenant_a):
        assert GroupPriority.objects.count() == 1


def test_charlie_cannot_remove_tenant_as_group_priority(client, world, charlie, tenant_a):
    client.force_login(charlie)
    assert client.get(priorities()).status_code == 404
    removal = client.post(priorities("tenant-b"), {"delete": world["group_priority"].pk})
    assert removal.status_code == 404
    assert client.post(priorities("tenant-b"), {"delete": "x"}).status_code == 404
    with scoping.scope(tenant_a):
        assert GroupPriority.objects.count() == 1


def test_a_german_page_keeps_the_chart_s_series_and_figures_machine_readable(
    client, world, bob, tenant_a
):
    charging_now(world, tenant_a, amperes=(10.5, 12, 14))
    compile_catalogs()
    User.objects.filter(pk=bob.pk).update(language="de")
    client.force_login(bob)

    page = client.get(url(world)).content.decode()

    # The legend's words are German; the series stay split by ":" and "," as charts.js reads.
    assert (
        'data-series="measured_L1:Gemessen:line:accent,planned_L1:Geplant:step:busy,'
        'limit:Grenze:step:bad"'
    ) in page
    chart = json.loads(re.search(r'id="load-chart" type="application/json">(.*?)<', page)[1])
    assert chart["measured_L1"][-1] == 10.5
    assert "<h2>Strom je Phase</h2>" in page and "10,5" in page
