"""The configuration pages: the template form refuses bad lines naming the field, the fleet
page counts and filters drifted chargers, a charger's page shows its settings, applying from a
page records a run, and a viewer cannot apply. Roles and tenant isolation of every page are
the page matrix's (tests/cpms/pages.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.configuration.models import ApplyRun, ConfigTemplate, Drift
from chargers.configuration.services.templates import template_create
from chargers.models import Charger
from cpms.tenancy import scoping


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


@pytest.fixture
def fleet(tenant_a):
    with scoping.scope(tenant_a):
        steady = Charger.objects.create(identity="CP-STEADY", ocpp_version="1.6")
        drifted = Charger.objects.create(identity="CP-DRIFTED", ocpp_version="1.6")
        template = template_create(
            name="Fleet 1.6",
            protocol="1.6",
            entries=[{"key": "HeartbeatInterval", "value": "300"}],
        )
        Drift.objects.create(
            charger=drifted,
            setting="HeartbeatInterval",
            template=template,
            desired="300",
            actual=None,
            since=timezone.now(),
        )
    return {"steady": steady, "drifted": drifted, "template": template}


def test_a_bad_line_is_shown_on_the_entries_field_and_nothing_is_saved(client, alice, tenant_a):
    client.force_login(alice)
    data = {"name": "Broken", "protocol": "2.0.1", "entries": "HeartbeatInterval = 300"}

    response = client.post(url("config_template_create"), data)

    assert response.status_code == 200
    assert "Line 1" in " ".join(response.context["form"].errors["entries"])
    with scoping.scope(tenant_a):
        assert not ConfigTemplate.objects.exists()


def test_an_admin_creates_a_template_from_lines(client, alice, tenant_a):
    client.force_login(alice)
    data = {
        "name": "Depot",
        "protocol": "2.0.1",
        "entries": "# metering\nSampledDataCtrlr.TxUpdatedInterval = 30\n"
        "EVSE@1.Power#MaxSet = 11000",
    }

    response = client.post(url("config_template_create"), data)

    assert response.status_code == 302
    with scoping.scope(tenant_a):
        template = ConfigTemplate.objects.get(name="Depot")
        assert [e.setting for e in template.entries.all()] == [
            "SampledDataCtrlr.TxUpdatedInterval",
            "EVSE@1.Power#MaxSet",
        ]


def test_the_fleet_page_counts_drift_and_filters_drifted_chargers(client, bob, fleet):
    client.force_login(bob)

    everyone = client.get(url("charger_list")).content.decode()
    drifted = client.get(url("charger_list"), {"drift": "drifted"}).content.decode()

    assert "CP-STEADY" in everyone and 'data-drift="1"' in everyone
    assert "CP-DRIFTED" in drifted and "CP-STEADY" not in drifted


def test_a_chargers_page_shows_its_settings_with_their_source(client, bob, fleet):
    client.force_login(bob)

    page = client.get(url("charger_detail", pk=fleet["drifted"].pk)).content.decode()

    assert 'data-setting="HeartbeatInterval" data-drift' in page
    assert "missing" in page and "Fleet 1.6" in page
    # A viewer is offered no apply button.
    assert "Apply “Fleet 1.6”" not in page


def test_an_operator_applies_to_chosen_chargers_and_lands_on_the_run(client, olga, fleet, tenant_a):
    client.force_login(olga)

    response = client.post(
        url("config_template_apply", pk=fleet["template"].pk), {"chargers": [fleet["drifted"].pk]}
    )

    with scoping.scope(tenant_a):
        run = ApplyRun.objects.get()
        assert [r.charger.identity for r in run.results.all()] == ["CP-DRIFTED"]
    assert response["Location"] == url("config_apply_run", pk=run.pk)
    assert "CP-DRIFTED" in client.get(response["Location"]).content.decode()


def test_applying_with_no_charger_chosen_names_the_field(client, olga, fleet, tenant_a):
    client.force_login(olga)

    response = client.post(url("config_template_apply", pk=fleet["template"].pk), {}, follow=True)

    assert "Choose chargers, or apply to all." in response.content.decode()
    with scoping.scope(tenant_a):
        assert not ApplyRun.objects.exists()


@pytest.mark.parametrize("who, status", [("bob", 403), ("charlie", 404)])
def test_a_viewer_or_another_tenant_cannot_apply_or_edit(
    client, request, fleet, tenant_a, who, status
):
    client.force_login(request.getfixturevalue(who))
    template = fleet["template"]

    applied = client.post(url("config_template_apply", pk=template.pk), {"all": "on"})
    edited = client.post(
        url("config_template_edit", pk=template.pk),
        {"name": "Mine", "protocol": "1.6", "entries": "A = 1"},
    )
    deleted = client.post(url("config_template_delete", pk=template.pk))

    assert applied.status_code == edited.status_code == deleted.status_code == status
    with scoping.scope(tenant_a):
        assert not ApplyRun.objects.exists()
        assert list(ConfigTemplate.objects.values_list("name", flat=True)) == ["Fleet 1.6"]
