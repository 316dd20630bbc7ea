"""The chargers and id tokens as CSV, from the dashboard and the API: their columns, the list's
filters, the formula guard, tenants apart, and a token export the token import reads back."""

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chargers.models import Charger, Connector, IdToken, RegistrationStatus
from chargers.services.tokens import id_tokens_import
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet


def page(name):
    return reverse(name, kwargs={"tenant_slug": "tenant-a"})


def read(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def header(response) -> list[str]:
    return b"".join(response.streaming_content).decode().splitlines()[0].split(",")


# --- Chargers -------------------------------------------------------------------------------------


def test_a_viewer_exports_the_chargers_with_state_firmware_and_counts(
    client, tenant_a, tenant_b, site_a, bob
):
    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="CP-A1", serial_number="SN-1")
    with scoping.scope(tenant_b):
        Charger.objects.create(identity="CP-B1")
    client.force_login(bob)
    response = client.get(page("charger_export"))
    [row] = read(response)
    assert response["Content-Disposition"].startswith('attachment; filename="chargers-tenant-a-')
    assert row["identity"] == "CP-A1" and row["site"] == "Mall A" and row["serial_number"] == "SN-1"
    assert row["vendor"] == "Acme" and row["model"] == "AC22" and row["firmware_version"] == "1.2.3"
    assert row["ocpp_version"] == "1.6" and row["registration_status"] == "Accepted"
    assert row["state"] == "charging" and row["connectors"] == "1" and row["open_alerts"] == "1"
    assert row["last_seen"].endswith(("+01:00", "+02:00"))  # Europe/Berlin, the tenant's zone


def test_the_chargers_export_applies_the_lists_filters(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="BUSY", vendor="Acme")
        idle = make_fleet(site_a, identity="IDLE", vendor="Other")["charger"]
        Connector.objects.filter(charger=idle).update(status="Available")
        Charger.objects.create(identity="NEW", registration_status=RegistrationStatus.PENDING)
    client.force_login(bob)
    charging = read(client.get(page("charger_export"), {"state": "charging"}))
    other = read(client.get(page("charger_export"), {"vendor": "Other"}))
    newest_first = read(client.get(page("charger_export"), {"sort": "-identity"}))
    assert [r["identity"] for r in charging] == ["BUSY"]
    assert [r["identity"] for r in other] == ["IDLE"]
    assert [r["identity"] for r in newest_first] == ["NEW", "IDLE", "BUSY"]


def test_a_hostile_vendor_is_neutralised_in_the_chargers_export(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        make_fleet(site_a, vendor='=HYPERLINK("http://evil","x")')
    client.force_login(bob)
    [row] = read(client.get(page("charger_export")))
    assert row["vendor"] == '\'=HYPERLINK("http://evil","x")'


def test_a_bad_chargers_filter_is_refused_with_its_field_named(client, tenant_a, bob):
    client.force_login(bob)
    for params, field in [
        ({"state": "asleep"}, "state"),
        ({"site": "x"}, "site"),
        ({"sort": "power"}, "sort"),
        ({"version": "9"}, "version"),
    ]:
        response = client.get(page("charger_export"), params)
        assert response.status_code == 400
        assert response.content.decode().startswith(f"{field}: ")


def test_the_chargers_export_costs_the_same_queries_for_more_chargers(
    client, tenant_a, site_a, bob
):
    client.force_login(bob)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            read(client.get(page("charger_export")))
        return len(captured)

    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="ONE")
    few = queries()
    with scoping.scope(tenant_a):
        for number in range(5):
            make_fleet(site_a, identity=f"MORE-{number}")
    assert queries() == few


def test_the_api_exports_chargers_by_state_and_never_another_tenants(
    api, keys, tenant_a, tenant_b, site_a
):
    with scoping.scope(tenant_a):
        make_fleet(site_a, identity="BUSY")
        Charger.objects.create(identity="NEW", registration_status=RegistrationStatus.PENDING)
    with scoping.scope(tenant_b):
        Charger.objects.create(identity="CP-B1")
    mine = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:charger-export"), {"state": "pending"})
    theirs = api(keys["charlie"]).get(reverse("api:charger-export"))
    assert mine["Content-Type"].startswith("text/csv")
    assert [r["identity"] for r in read(mine)] == ["NEW"]
    assert [r["identity"] for r in read(theirs)] == ["CP-B1"]


def test_the_api_refuses_a_bad_charger_state_naming_the_field(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:charger-export"), {"state": "asleep"}
    )
    assert response.status_code == 400 and "state" in response.json()["error"]["fields"]


# --- Id tokens ------------------------------------------------------------------------------------


def make_tokens(tenant):
    with scoping.scope(tenant):
        group = IdToken.objects.create(uid="FLEET-1", label="Fleet")
        IdToken.objects.create(
            uid="04A1B2C3",
            type="ISO14443",
            label='=HYPERLINK("http://evil","x")',
            group=group,
            expires_at=timezone.now() + timedelta(days=30),
        )
        IdToken.objects.create(uid="APP-7", type="Central", label="-night shift", blocked=True)


def test_the_token_export_puts_the_imports_columns_first_in_its_order(client, tenant_a, bob):
    make_tokens(tenant_a)
    client.force_login(bob)
    response = client.get(page("id_token_export"))
    assert header(response) == [
        "uid",
        "type",
        "label",
        "group",
        "blocked",
        "expires_at",
        "created_at",
    ]


def test_the_token_export_neutralises_a_hostile_label(client, tenant_a, bob):
    make_tokens(tenant_a)
    client.force_login(bob)
    rows = {r["uid"]: r for r in read(client.get(page("id_token_export")))}
    assert rows["04A1B2C3"]["label"] == '\'=HYPERLINK("http://evil","x")'
    assert rows["04A1B2C3"]["group"] == "FLEET-1" and rows["APP-7"]["blocked"] == "yes"


def test_the_token_export_re_imports_with_no_change(client, tenant_a, bob):
    make_tokens(tenant_a)
    fields = ["uid", "type", "label", "group__uid", "blocked", "expires_at", "created_at"]
    with scoping.scope(tenant_a):
        before = list(IdToken.objects.order_by("uid").values_list(*fields))
    client.force_login(bob)
    data = b"".join(client.get(page("id_token_export")).streaming_content)
    with scoping.scope(tenant_a):
        result = id_tokens_import(data=data, tz=timezone.get_current_timezone())
        after = list(IdToken.objects.order_by("uid").values_list(*fields))
    assert result.errors == [] and result.created == 0 and result.updated == 3
    assert after == before


def test_the_token_export_applies_the_lists_filters(client, tenant_a, tenant_b, bob):
    make_tokens(tenant_a)
    make_tokens(tenant_b)
    client.force_login(bob)
    blocked = read(client.get(page("id_token_export"), {"status": "Blocked"}))
    searched = read(client.get(page("id_token_export"), {"q": "fleet"}))
    everything = read(client.get(page("id_token_export")))
    assert [r["uid"] for r in blocked] == ["APP-7"]
    assert [r["uid"] for r in searched] == ["04A1B2C3", "FLEET-1"]
    assert len(everything) == 3


def test_a_bad_token_status_is_refused_with_its_field_named(client, api, keys, tenant_a, bob):
    client.force_login(bob)
    page_answer = client.get(page("id_token_export"), {"status": "Lost"})
    api_answer = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:id-token-export"), {"status": "Lost"}
    )
    assert page_answer.status_code == 400 and page_answer.content.startswith(b"status: ")
    assert api_answer.status_code == 400 and "status" in api_answer.json()["error"]["fields"]


def test_the_api_exports_tokens_as_the_dashboard_does(client, api, keys, tenant_a, bob):
    make_tokens(tenant_a)
    client.force_login(bob)
    from_api = read(api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:id-token-export")))
    from_page = read(client.get(page("id_token_export")))
    blocked = read(
        api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:id-token-export"), {"blocked": "true"})
    )
    assert from_api == from_page
    assert [r["uid"] for r in blocked] == ["APP-7"]


def test_each_list_links_its_export_with_the_current_filters(client, tenant_a, bob):
    client.force_login(bob)
    for listing, export, params in [
        ("charger_list", "charger_export", "state=charging&amp;vendor=Acme"),
        ("id_token_list", "id_token_export", "status=Blocked&amp;q=van"),
        ("alert_list", "alert_export", "show=all&amp;severity=critical"),
    ]:
        body = client.get(page(listing) + "?" + params.replace("&amp;", "&")).content.decode()
        assert f'href="{page(export)}?{params}"' in body
