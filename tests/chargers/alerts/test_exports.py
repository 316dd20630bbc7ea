"""Alerts as CSV from the dashboard and the API: columns, the list's filters, the formula guard,
tenants apart."""

import csv
import io

from django.urls import reverse
from django.utils import timezone

from chargers.alerts.models import Alert, AlertKind, Severity
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


def page(name):
    return reverse(name, kwargs={"tenant_slug": "tenant-a"})


def read(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def make_alerts(tenant, site, alice):
    """An open acknowledged alert with a hostile title, and a resolved critical one."""
    with scoping.scope(tenant):
        fleet = make_fleet(site)
        now = timezone.now()
        Alert.objects.filter(pk=fleet["alert"].pk).update(
            title='=HYPERLINK("http://evil","x")',
            acknowledged_by=alice,
            acknowledged_at=now,
            acknowledgement_note="On it",
        )
        Alert.objects.create(
            kind=AlertKind.CONNECTOR_FAULTED,
            severity=Severity.CRITICAL,
            subject="connector:1",
            charger=fleet["charger"],
            evse_id=1,
            connector_id=1,
            title="Connector faulted",
            opened_at=now,
            resolved_at=now,
        )


def test_a_viewer_exports_the_open_alerts_with_who_acknowledged_them(
    client, tenant_a, site_a, alice, bob
):
    make_alerts(tenant_a, site_a, alice)
    client.force_login(bob)
    response = client.get(page("alert_export"))
    [row] = read(response)
    assert response["Content-Disposition"].startswith('attachment; filename="alerts-tenant-a-')
    assert row["kind"] == "charger_offline" and row["severity"] == "warning"
    assert row["charger"] == "CP-A1" and row["site"] == "Mall A"
    assert row["title"] == '\'=HYPERLINK("http://evil","x")'
    assert row["acknowledged_by"] == "alice@a.test" and row["acknowledgement_note"] == "On it"
    assert row["opened_at"] and row["acknowledged_at"] and row["resolved_at"] == ""


def test_the_alerts_export_applies_the_lists_filters(client, tenant_a, site_a, alice, bob):
    make_alerts(tenant_a, site_a, alice)
    client.force_login(bob)
    every = read(client.get(page("alert_export"), {"show": "all"}))
    critical = read(client.get(page("alert_export"), {"show": "all", "severity": "critical"}))
    faults = read(client.get(page("alert_export"), {"show": "all", "kind": "connector_faulted"}))
    assert len(every) == 2
    assert [r["title"] for r in critical] == [r["title"] for r in faults] == ["Connector faulted"]
    assert critical[0]["resolved_at"] and critical[0]["connector_id"] == "1"


def test_a_bad_alerts_filter_is_refused_with_its_field_named(client, api, keys, tenant_a, bob):
    client.force_login(bob)
    for params, field in [
        ({"severity": "dire"}, "severity"),
        ({"show": "some"}, "show"),
        ({"kind": "fire"}, "kind"),
    ]:
        response = client.get(page("alert_export"), params)
        assert response.status_code == 400 and response.content.decode().startswith(f"{field}: ")
    answer = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:alert-export"), {"kind": "fire"})
    assert answer.status_code == 400 and "kind" in answer.json()["error"]["fields"]


def test_the_api_exports_alerts_and_never_another_tenants(
    api, keys, tenant_a, tenant_b, site_a, alice
):
    make_alerts(tenant_a, site_a, alice)
    resolved = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:alert-export"), {"open": "false"})
    theirs = api(keys["charlie"]).get(reverse("api:alert-export"))
    assert resolved["Content-Type"].startswith("text/csv")
    assert [r["title"] for r in read(resolved)] == ["Connector faulted"]
    assert read(theirs) == []
