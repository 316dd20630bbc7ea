"""The charger domain's resources (chargers, sessions, telemetry, id tokens, commands): what
integrators do with them, and the errors they get when input is wrong."""

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from chargers.models import (
    Charger,
    ChargingSession,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    IdToken,
    OcppMessage,
)
from cpms import hashing
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.factories import meter_sample


def test_it_creates_a_charger_and_shows_its_password_once(api, keys, tenant_a, site_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        reverse("api:charger-list"), {"identity": "ACME-1", "site": site_a.pk}, format="json"
    )
    assert response.status_code == 201
    password = response.json()["password"]
    with scoping.scope(tenant_a):
        charger = Charger.objects.get(identity="ACME-1")
    assert hashing.check(password, charger.password_hash)
    detail = api(keys[ApiKeyRole.ADMIN]).get(reverse("api:charger-detail", args=[charger.pk]))
    assert "password" not in detail.json()


def test_it_rotates_a_chargers_password(api, keys, world, tenant_a):
    charger = world["charger"]
    url = reverse("api:charger-rotate-password", args=[charger.pk])
    response = api(keys[ApiKeyRole.ADMIN]).post(url, {}, format="json")
    charger.refresh_from_db()
    assert hashing.check(response.json()["password"], charger.password_hash)


def test_it_refuses_a_short_charger_password_naming_the_field(api, keys, world):
    url = reverse("api:charger-rotate-password", args=[world["charger"].pk])
    response = api(keys[ApiKeyRole.ADMIN]).post(url, {"password": "short"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["password"]


def test_an_admin_approves_a_pending_charger_and_an_operator_may_not(api, keys, world):
    charger = world["spare_charger"]
    with scoping.scope(charger.tenant):
        Charger.objects.filter(pk=charger.pk).update(registration_status="Pending")
    url = reverse("api:charger-approve", args=[charger.pk])

    refused = api(keys[ApiKeyRole.OPERATOR]).post(url)
    response = api(keys[ApiKeyRole.ADMIN]).post(url)

    assert refused.status_code == 403
    assert response.json()["registration_status"] == "Accepted"


def test_it_filters_sessions_by_charger_and_date(api, keys, world):
    client = api(keys[ApiKeyRole.READ_ONLY])
    charger = world["charger"]
    found = client.get(reverse("api:session-list"), {"charger": charger.pk}).json()["results"]
    later = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    none = client.get(reverse("api:session-list"), {"started_after": later}).json()["results"]
    assert [s["id"] for s in found] == [world["session"].pk] and none == []


def test_the_csv_export_neutralises_formulas(api, keys, world, tenant_a):
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=world["session"].pk).update(
            id_tag="=HYPERLINK(1)", stop_reason="@SUM(A1)"
        )
    response = api(keys[ApiKeyRole.READ_ONLY]).get(reverse("api:session-export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0]["id_token"] == "'=HYPERLINK(1)" and rows[0]["stop_reason"] == "'@SUM(A1)"
    assert rows[0]["charger"] == "CP-A"


def test_meter_samples_are_downsampled_on_request(api, keys, world, tenant_a):
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    with scoping.scope(tenant_a):
        for minute, value in [(1, 10), (2, 20), (3, 30)]:
            at = start - timezone.timedelta(hours=2) + timezone.timedelta(minutes=minute)
            meter_sample(world["charger"], at, value, "Power.Active.Import").save()
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:meter-sample-series"),
        {"charger": world["charger"].pk, "interval": "hour", "measurand": "Power.Active.Import"},
    )
    [point] = response.json()
    assert point["count"] == 3 and float(point["avg"]) == 20 and float(point["max"]) == 30


def test_it_bulk_upserts_id_tokens_all_or_nothing(api, keys, world, tenant_a):
    client = api(keys[ApiKeyRole.OPERATOR])
    url = reverse("api:id-token-bulk-upsert")
    good = {"tokens": [{"uid": "04aabbcc", "blocked": True}, {"uid": "NEW-1", "label": "Van"}]}
    assert client.post(url, good, format="json").json() == {"created": 1, "updated": 1}
    bad = {"tokens": [{"uid": "NEW-2"}, {"uid": "has space"}]}
    response = client.post(url, bad, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["tokens.1.uid"]
    with scoping.scope(tenant_a):
        assert sorted(IdToken.objects.values_list("uid", "blocked")) == [
            ("04AABBCC", True),
            ("NEW-1", False),
        ]


def test_a_raw_ocpp_payload_is_validated_against_the_chargers_version(api, keys, world):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        reverse("api:command-list"),
        {"charger": world["charger"].pk, "ocpp_action": "Reset", "payload": {"type": "Sideways"}},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["payload.type"]


def test_an_unknown_ocpp_action_is_refused_naming_the_field(api, keys, world):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        reverse("api:command-list"),
        {"charger": world["charger"].pk, "ocpp_action": "../../etc/passwd", "payload": {}},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["ocpp_action"]


def test_an_impossible_time_bound_is_a_400_naming_the_parameter(api, keys, world):
    response = api(keys[ApiKeyRole.READ_ONLY]).get(
        reverse("api:session-list"), {"started_after": "0001-01-01T00:00:00+23:00"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["started_after"]


def test_it_orders_sessions_by_id_across_cursor_pages(api, keys, world, tenant_a):
    now = timezone.now()
    with scoping.scope(tenant_a):
        charger = world["charger"]
        for minutes, txn in [(30, "late"), (-30, "early")]:
            ChargingSession.objects.create(
                charger=charger,
                evse_id=1,
                connector_id=1,
                transaction_id=txn,
                started_at=now + timedelta(minutes=minutes),
            )
    client = api(keys[ApiKeyRole.READ_ONLY])
    url, seen = reverse("api:session-list") + "?ordering=id&page_size=1", []
    while url:
        page = client.get(url).json()
        seen += [row["transaction_id"] for row in page["results"]]
        url = page["next"]
    assert seen == ["1", "late", "early"]


def test_it_lists_the_message_log_newest_first_filtered_by_charger_and_action(
    api, keys, world, tenant_a
):
    with scoping.scope(tenant_a):
        OcppMessage.objects.create(
            charger=world["charger"],
            at=timezone.now(),
            incoming=True,
            message_type=2,
            unique_id="m2",
            action="Heartbeat",
            body='[2,"m2","Heartbeat",{}]',
        )
    client = api(keys[ApiKeyRole.READ_ONLY])
    url = reverse("api:ocpp-message-list")
    everything = client.get(url, {"charger": world["charger"].pk}).json()["results"]
    assert [m["action"] for m in everything] == ["Heartbeat", "Authorize"]
    heartbeats = client.get(url, {"action": "Heartbeat"}).json()["results"]
    assert [m["unique_id"] for m in heartbeats] == ["m2"]
    assert client.get(url, {"charger": world["spare_charger"].pk}).json()["results"] == []


def test_it_lists_a_chargers_device_model(api, keys, world, tenant_a):
    with scoping.scope(tenant_a):
        DeviceModelVariable.objects.create(
            charger=world["charger"],
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
            value="300",
            mutability="ReadWrite",
        )
    client = api(keys[ApiKeyRole.READ_ONLY])
    url = reverse("api:device-model-variable-list")
    rows = client.get(url, {"charger": world["charger"].pk, "component": "OCPPCommCtrlr"})
    assert [(r["variable"], r["value"]) for r in rows.json()["results"]] == [
        ("HeartbeatInterval", "300")
    ]


def test_it_lists_a_chargers_connections_and_which_are_open(api, keys, world, tenant_a):
    with scoping.scope(tenant_a):
        ConnectionEvent.objects.update(
            disconnected_at=timezone.now(), close_reason="closed by the charger"
        )
        ConnectionEvent.objects.create(
            charger=world["charger"], connected_at=timezone.now(), ocpp_version="1.6"
        )
    client = api(keys[ApiKeyRole.READ_ONLY])
    url = reverse("api:connection-list")
    everything = client.get(url, {"charger": world["charger"].pk}).json()["results"]
    assert [c["close_reason"] for c in everything] == ["", "closed by the charger"]
    still_open = client.get(url, {"open": "true"}).json()["results"]
    assert [c["disconnected_at"] for c in still_open] == [None]


def test_a_charger_shows_the_state_the_dashboard_shows(api, keys, world, tenant_a):
    charger = world["charger"]
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True)
        Connector.objects.update_or_create(
            charger=charger, evse_id=1, connector_id=1, defaults={"status": "Faulted"}
        )
    url = reverse("api:charger-detail", args=[charger.pk])

    state = api(keys[ApiKeyRole.READ_ONLY]).get(url).json()["state"]

    assert state == "faulted"
