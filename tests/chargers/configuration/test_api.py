"""The configuration API: templates refused with the field named and nothing saved, read-only
keys refused, precedence shown with each value's source, apply answered with 202 and a run to
poll, and the drift read back. Roles and tenant isolation are the route matrix's
(tests/cpms/api/routes.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from chargers.configuration.models import ApplyResult, ApplyRun, ConfigTemplate, Drift
from chargers.configuration.services.drift import drift_refresh
from chargers.configuration.services.templates import template_create
from chargers.models import Charger, Command, CommandStatus
from cpms.celery import app
from cpms.models import ApiKeyRole, Site
from cpms.tenancy import scoping

TEMPLATES = reverse("api:config-template-list")


@pytest.fixture
def admin(api, keys):
    return api(keys[ApiKeyRole.ADMIN])


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return Charger.objects.create(
            identity="CP-1", ocpp_version="1.6", vendor="Acme", model="AC22", site=site_a
        )


def read_keys(charger, *entries, unknown=()):
    """An answered GetConfiguration of every key, as the charger's consumer records it."""
    keys = [{"key": k, "value": v, "readonly": ro} for k, v, ro in entries]
    Command.objects.create(
        charger=charger,
        action="GetConfiguration",
        payload={},
        status=CommandStatus.ANSWERED,
        response={"configurationKey": keys, "unknownKey": list(unknown)},
        completed_at=timezone.now(),
    )


def body(**changes):
    return {
        "name": "Acme defaults",
        "protocol": "1.6",
        "vendor": "Acme",
        "entries": [{"key": "HeartbeatInterval", "value": "300"}],
        **changes,
    }


def count(tenant):
    with scoping.scope(tenant):
        return ConfigTemplate.objects.count()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"protocol": "1.5"}, "protocol"),
        ({"entries": []}, "entries"),
        ({"entries": [{"key": "", "value": "1"}]}, "entries"),
        ({"entries": [{"key": "HeartbeatInterval", "value": 300}]}, "entries.0.value"),
        ({"entries": [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]}, "entries"),
        ({"protocol": "2.0.1", "entries": [{"component": "X", "value": "1"}]}, "entries"),
        ({"site": 999999}, "site"),
        ({"entries": [{"key": "AuthorizationKey", "value": "secret"}]}, "entries"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_saves_nothing(admin, tenant_a, changes, field):
    response = admin.post(TEMPLATES, body(**changes), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert count(tenant_a) == 0


def test_a_duplicate_name_is_refused_naming_it(admin, tenant_a):
    assert admin.post(TEMPLATES, body(), format="json").status_code == 201
    response = admin.post(TEMPLATES, body(), format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_a_key_a_charger_reported_read_only_is_refused(admin, tenant_a, charger):
    with scoping.scope(tenant_a):
        read_keys(charger, ("NumberOfConnectors", "2", True), ("HeartbeatInterval", "60", False))
    entries = [
        {"key": "HeartbeatInterval", "value": "300"},
        {"key": "NumberOfConnectors", "value": "4"},
    ]

    response = admin.post(TEMPLATES, body(entries=entries), format="json")

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["entries"]
    assert "Entry 2: NumberOfConnectors is read-only (as CP-1 reported)" in message
    assert count(tenant_a) == 0


def test_a_template_is_created_with_its_entries_and_replaced_with_put(admin, tenant_a):
    created = admin.post(TEMPLATES, body(), format="json").json()
    entries = [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"}]
    url = reverse("api:config-template-detail", kwargs={"pk": created["id"]})

    replaced = admin.put(url, body(protocol="2.0.1", entries=entries), format="json")

    assert replaced.status_code == 200
    assert [e["setting"] for e in replaced.json()["entries"]] == ["OCPPCommCtrlr.HeartbeatInterval"]
    assert replaced.json()["applies_to"] == "Acme"


def test_the_most_specific_template_gives_each_value_and_says_so(admin, tenant_a, charger, site_a):
    with scoping.scope(tenant_a):

        def make(name, lines, **fields):
            entries = [{"key": k, "value": v} for k, v in lines.items()]
            return template_create(name=name, protocol="1.6", entries=entries, **fields)

        make("Fleet", {"A": "fleet", "B": "fleet", "C": "fleet", "D": "fleet"})
        make("Vendor", {"A": "vendor", "B": "vendor", "C": "vendor"}, vendor="Acme")
        make("Model", {"A": "model", "B": "model"}, vendor="Acme", model="AC22")
        make("Site", {"A": "site"}, site=site_a)
        make("Other site", {"A": "elsewhere"}, site=Site.objects.create(name="Elsewhere"))
        make("Other model", {"A": "other"}, model="DC50")
        read_keys(charger, ("A", "site", False), ("B", "vendor", False), ("C", "vendor", False))
        drift_refresh(charger_id=charger.pk)

    url = reverse("api:charger-configuration-detail", kwargs={"pk": charger.pk})
    shown = admin.get(url).json()

    assert {s["setting"]: (s["desired"], s["template_name"]) for s in shown["settings"]} == {
        "A": ("site", "Site"),
        "B": ("model", "Model"),
        "C": ("vendor", "Vendor"),
        "D": ("fleet", "Fleet"),
    }
    assert {s["setting"]: (s["drift"], s["actual"]) for s in shown["settings"]} == {
        "A": (False, "site"),
        "B": (True, "vendor"),
        "C": (False, "vendor"),
        "D": (True, None),  # read every key, and D was not among them: missing
    }
    assert shown["drift_count"] == 2


def test_drift_is_listed_per_charger(admin, tenant_a, charger):
    with scoping.scope(tenant_a):
        template_create(
            name="T", protocol="1.6", vendor="Acme", entries=[{"key": "A", "value": "1"}]
        )
        read_keys(charger, ("A", "2", False))
        drift_refresh(charger_id=charger.pk)

    rows = admin.get(reverse("api:config-drift-list"), {"charger": charger.pk}).json()["results"]

    assert [(r["setting"], r["desired"], r["actual"], r["missing"]) for r in rows] == [
        ("A", "1", "2", False)
    ]


def test_applying_answers_202_with_a_run_to_poll(api, keys, tenant_a, charger):
    with scoping.scope(tenant_a):
        template = template_create(
            name="T", protocol="1.6", vendor="Acme", entries=[{"key": "A", "value": "1"}]
        )
    url = reverse("api:config-template-apply", kwargs={"pk": template.pk})

    response = api(keys[ApiKeyRole.OPERATOR]).post(url, {"chargers": [charger.pk]}, format="json")

    assert response.status_code == 202
    run = response.json()
    assert response["Location"] == reverse("api:config-apply-run-detail", kwargs={"pk": run["id"]})
    assert [r["charger_identity"] for r in run["results"]] == ["CP-1"]
    assert run["state"] == "running"


def test_applying_to_a_charger_the_template_does_not_match_is_refused(admin, tenant_a, charger):
    with scoping.scope(tenant_a):
        template = template_create(
            name="T", protocol="2.0.1", entries=[{"component": "X", "variable": "Y", "value": "1"}]
        )
    url = reverse("api:config-template-apply", kwargs={"pk": template.pk})

    response = admin.post(url, {"chargers": [charger.pk]}, format="json")

    assert response.status_code == 400
    assert "chargers" in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not ApplyRun.objects.exists() and not ApplyResult.objects.exists()


def test_another_tenants_charger_is_no_charger_of_a_run(api, keys, tenant_a, tenant_b, charger):
    with scoping.scope(tenant_b):
        template = template_create(name="B", protocol="1.6", entries=[{"key": "A", "value": "1"}])
    url = reverse("api:config-template-apply", kwargs={"pk": template.pk})

    response = api(keys["charlie"]).post(url, {"chargers": [charger.pk]}, format="json")

    assert response.status_code == 400
    assert "chargers" in response.json()["error"]["fields"]
    with scoping.scope(tenant_a):
        assert not Drift.objects.exists() and not ApplyResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_offline_charger_is_recorded_offline_and_keeps_its_drift(admin, tenant_a, charger):
    with scoping.scope(tenant_a):
        template = template_create(
            name="T", protocol="1.6", vendor="Acme", entries=[{"key": "A", "value": "1"}]
        )
        read_keys(charger, ("A", "2", False))
        drift_refresh(charger_id=charger.pk)
    url = reverse("api:config-template-apply", kwargs={"pk": template.pk})

    app.conf.task_always_eager = True
    try:
        run = admin.post(url, {}, format="json").json()
    finally:
        app.conf.task_always_eager = False

    polled = admin.get(reverse("api:config-apply-run-detail", kwargs={"pk": run["id"]})).json()
    assert polled["state"] == "done"
    assert [(r["state"], r["items"]) for r in polled["results"]] == [
        ("offline", [{"setting": "A", "value": "1", "status": "offline"}])
    ]
    with scoping.scope(tenant_a):
        assert list(Drift.objects.values_list("setting", "actual")) == [("A", "2")]
