"""Webhooks: the outbox shares the event's transaction, deliveries are signed, a failing
receiver is retried with backoff and then marked failed, and deliveries can be replayed."""

import contextlib
import json
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.events import CdrIssued
from chargers.alerts.events import AlertOpened, AlertResolved
from chargers.events import ChargerOffline, SessionStarted, SessionStopped, SessionUpdated
from chargers.firmware.events import (
    CampaignStateChanged,
    DiagnosticsStateChanged,
    TargetStateChanged,
)
from chargers.models import SessionState
from chargers.reservations.events import ReservationChanged
from chargers.services.connections import connection_close, connection_open
from chargers.services.reports import connector_status_record
from chargers.services.sessions import session_start
from chargers.smart_charging.services import plan_compute as load_plan_compute
from cpms import webhooks
from cpms.celery import app
from cpms.events import publish
from cpms.models import (
    ApiKeyRole,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from cpms.services import webhooks as webhook_services
from cpms.tenancy import scoping
from tests.helpers import http_server


@contextlib.contextmanager
def receiver(status: int):
    """A real HTTP receiver on a free port answering `status`; yields (url, requests)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers, body))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"broken")

        def log_message(self, *args):
            pass

    with http_server(Handler) as address:
        yield f"{address}/hook", received


@pytest.fixture
def eager():
    """Celery runs tasks at once, in this process, as a worker would."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def local_receivers(settings):
    """The receivers of these tests listen on loopback, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def endpoint_for(tenant, url, events=("charger.status",)):
    with scoping.scope(tenant):
        return WebhookEndpoint.objects.create(
            url=url, event_types=list(events), secret=webhooks.new_secret()
        )


def report_status(charger, status="Charging"):
    with scoping.scope(charger.tenant):
        connector_status_record(charger_id=charger.pk, evse_id=1, connector_id=1, status=status)


def test_a_delivery_is_signed_and_the_signature_verifies(
    world, tenant_a, eager, django_capture_on_commit_callbacks
):
    with receiver(200) as (url, received):
        endpoint = endpoint_for(tenant_a, url)
        with django_capture_on_commit_callbacks(execute=True):
            report_status(world["charger"])
    [(headers, body)] = received
    assert webhooks.verify(endpoint.secret, headers["CPMS-Signature"], body)
    assert not webhooks.verify(endpoint.secret, headers["CPMS-Signature"], body + b" ")
    assert not webhooks.verify("whsec_other", headers["CPMS-Signature"], body)
    event = json.loads(body)
    assert event["type"] == headers["CPMS-Event"] == "charger.status"
    assert event["data"]["status"] == "Charging"
    with scoping.scope(tenant_a):
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempt_count == 1


def test_an_old_signature_is_refused_by_the_verifier():
    body = b"{}"
    header = webhooks.sign("whsec_x", 1_000_000, body)
    assert webhooks.verify("whsec_x", header, body, now=1_000_100)
    assert not webhooks.verify("whsec_x", header, body, now=1_000_000 + 301)


def test_the_outbox_row_rolls_back_with_the_event(world, tenant_a):
    endpoint = endpoint_for(tenant_a, "https://hooks.a.test/x")
    with contextlib.suppress(RuntimeError), transaction.atomic():
        report_status(world["charger"])
        raise RuntimeError("the service's transaction fails")
    report_status(world["charger"], status="Available")
    with scoping.scope(tenant_a):
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
        assert [d.payload["data"]["status"] for d in deliveries] == ["Available"]


def test_only_subscribed_event_types_are_written(world, tenant_a):
    endpoint_for(tenant_a, "https://hooks.a.test/x", events=("session.stopped",))
    report_status(world["charger"])
    with scoping.scope(tenant_a):
        assert not WebhookDelivery.objects.filter(event_type="charger.status").exists()


def test_a_failing_receiver_is_retried_then_marked_failed(
    world, tenant_a, eager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 3)
    with receiver(500) as (url, received):
        endpoint = endpoint_for(tenant_a, url)
        with django_capture_on_commit_callbacks(execute=True):
            report_status(world["charger"])
    with scoping.scope(tenant_a):
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        attempts = list(delivery.attempts.values_list("status_code", flat=True))
    assert len(received) == 3 and attempts == [500, 500, 500]
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempt_count == 3


def test_backoff_grows_exponentially_up_to_a_cap():
    waits = [webhooks.backoff(n).total_seconds() for n in range(1, 12)]
    base = webhooks.RETRY_BASE_SECONDS
    assert waits[:3] == [base, 2 * base, 4 * base]
    assert max(waits) == webhooks.RETRY_MAX_SECONDS


def test_an_unreachable_receiver_is_recorded_with_the_error(world, tenant_a):
    endpoint = endpoint_for(tenant_a, "http://127.0.0.1:9/nothing-listens")
    report_status(world["charger"])
    with scoping.scope(tenant_a):
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)
        [attempt] = delivery.attempts.all()
        delivery.refresh_from_db()
    assert attempt.status_code is None and attempt.error
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at


def test_a_delivery_is_replayed_with_the_same_event_id(
    api, keys, world, tenant_a, eager, django_capture_on_commit_callbacks
):
    with receiver(200) as (url, received):
        endpoint_for(tenant_a, url)
        with scoping.scope(tenant_a):
            original = WebhookDelivery.objects.create(
                endpoint=WebhookEndpoint.objects.get(url=url),
                event_id="1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
                event_type="charger.status",
                payload={"id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"},
                status=DeliveryStatus.FAILED,
            )
        with django_capture_on_commit_callbacks(execute=True):
            response = api(keys[ApiKeyRole.ADMIN]).post(
                reverse("api:webhook-delivery-replay", args=[original.pk])
            )
    assert response.status_code == 202
    assert response.json()["replay_of"] == original.pk
    [(headers, _)] = received
    assert headers["CPMS-Event-Id"] == "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"


def test_deliveries_show_their_attempts(api, keys, world, tenant_a):
    endpoint_for(tenant_a, "http://127.0.0.1:9/nothing-listens")
    report_status(world["charger"])
    with scoping.scope(tenant_a):
        webhook_services.webhook_delivery_attempt(
            delivery_id=WebhookDelivery.objects.latest("id").pk
        )
    rows = api(keys[ApiKeyRole.ADMIN]).get(reverse("api:webhook-delivery-list")).json()
    assert rows["results"][0]["attempts"][0]["error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_endpoints_on_internal_addresses_are_refused_naming_the_url(
    world, keys, api, settings, url
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = api(keys["admin"]).post(
        "/api/v1/webhook-endpoints/",
        {"url": url, "event_types": ["session.started"]},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]


def test_a_delivery_to_an_internal_address_is_refused_without_a_request(tenant_a, settings):
    with receiver(200) as (url, received):
        endpoint = endpoint_for(tenant_a, url)
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with scoping.scope(tenant_a):
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id="5c7e1b4c-2f0e-4a43-9a53-8d8f1f3f0a11",
                event_type="charger.status",
                payload={"id": "x"},
            )
            webhook_services.webhook_delivery_attempt(delivery_id=delivery.pk)
            attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert received == [] and "internal address" in attempt.error


def test_every_event_type_carries_the_data_its_reference_documents(world, tenant_a):
    endpoint = endpoint_for(
        tenant_a, "https://hooks.a.test/all", events=webhooks.webhook_event_types()
    )
    charger = world["charger"]
    with scoping.scope(tenant_a):
        _, connection = connection_open(
            charger_id=charger.pk, channel_name="c1", node="n1", remote_addr="", version="1.6"
        )
        connector_status_record(charger_id=charger.pk, evse_id=1, connector_id=1, status="Charging")
        for session_event in [SessionStarted, SessionUpdated, SessionStopped]:
            publish(session_event.of(world["session"]))
        for alert_event in [AlertOpened, AlertResolved]:
            publish(alert_event.of(world["alert"], open_alerts=1))
        publish(CdrIssued.of(world["cdr"]))
        load_plan_compute(site=world["site"], trigger="test")
        publish(CampaignStateChanged.of(world["running_campaign"]))
        publish(TargetStateChanged.of(world["campaign_target"], wave=0, detail="Downloading"))
        publish(DiagnosticsStateChanged.of(world["diagnostics"]))
        publish(ReservationChanged.of(world["reservation"]))
        connection_close(
            charger_id=charger.pk, channel_name="c1", connection_event_id=connection, reason="t"
        )
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
        delivered = {d.event_type: d.payload for d in deliveries}
    assert sorted(delivered) == webhooks.webhook_event_types()
    for event_type, payload in delivered.items():
        documented = webhooks.event_data()[event_type]
        always = {field for field in documented if not field.startswith("[")}
        sometimes = {field.strip("[]") for field in documented if field.startswith("[")}
        assert always <= set(payload["data"]) <= always | sometimes, event_type
        assert set(payload) == {"id", "type", "created", "data"}


def test_an_endpoint_saved_after_an_event_gets_the_next_one_at_once(tenant_a):
    """The per-process cache of wanted event types is cleared when an endpoint changes."""
    offline = ChargerOffline(tenant_id=tenant_a.pk, charger_id=1, identity="CP-1")
    with scoping.scope(tenant_a):
        publish(offline)
        assert not WebhookDelivery.objects.exists()
    endpoint = endpoint_for(tenant_a, "https://example.com/hook", events=["charger.offline"])
    with scoping.scope(tenant_a):
        publish(offline)
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
        endpoint.is_active = False
        endpoint.save()
        publish(offline)
        assert WebhookDelivery.objects.count() == 1


# The contract integrators built on, as it stood when the event classes took it over: the
# domain event behind each webhook type, and the fields of its `data` (in brackets: present
# only sometimes), in the order the API reference lists them.
CONTRACT_EVENT_TYPES = {
    "charger.online": "charger.online",
    "charger.offline": "charger.offline",
    "connector.status": "charger.status",
    "session.started": "session.started",
    "session.updated": "session.updated",
    "session.stopped": "session.stopped",
    "alert.opened": "alert.opened",
    "alert.resolved": "alert.resolved",
    "cdr.issued": "cdr.issued",
    "load_plan.changed": "load_plan.changed",
    "firmware.campaign": "firmware.campaign",
    "firmware.charger": "firmware.charger",
    "firmware.diagnostics": "diagnostics.state",
    "reservation.changed": "reservation.state",
}
SESSION_FIELDS = [
    "session_id",
    "charger_id",
    "transaction_id",
    "evse_id",
    "id_tag",
    "state",
    "energy_wh",
    "power_w",
    "started_at",
    "stopped_at",
    "stop_reason",
]
ALERT_FIELDS = [
    "alert_id",
    "kind",
    "severity",
    "title",
    "charger_id",
    "open_alerts",
    "[title_text]",
]
CONTRACT_EVENT_DATA = {
    "alert.opened": ALERT_FIELDS,
    "alert.resolved": ALERT_FIELDS,
    "charger.offline": ["charger_id", "identity"],
    "charger.online": ["charger_id", "identity", "[ocpp_version]"],
    "charger.status": [
        "charger_id",
        "evse_id",
        "connector_id",
        "status",
        "error_code",
        "info",
        "vendor_id",
        "vendor_error_code",
        "at",
    ],
    "session.started": SESSION_FIELDS,
    "session.stopped": SESSION_FIELDS,
    "session.updated": SESSION_FIELDS,
    "cdr.issued": [
        "cdr_id",
        "[session_id]",
        "[reservation_id]",
        "charger_id",
        "version",
        "[supersedes]",
        "currency",
        "total_excl_vat",
        "total_incl_vat",
        "total_energy",
        "start_date_time",
        "end_date_time",
        "issued_at",
    ],
    "load_plan.changed": [
        "site_id",
        "plan_id",
        "trigger",
        "sessions",
        "paused",
        "planned_a",
        "limit_a",
    ],
    "firmware.campaign": ["campaign_id", "campaign_name", "state", "reason", "version"],
    "firmware.charger": ["campaign_id", "charger_id", "wave", "state", "attempt", "detail"],
    "diagnostics.state": ["diagnostics_id", "charger_id", "state", "error"],
    "reservation.state": [
        "reservation_id",
        "charger_id",
        "evse_id",
        "id_tag",
        "status",
        "charger_status",
        "detail",
        "expires_at",
        "[session_id]",
    ],
}


def test_the_event_classes_declare_the_webhook_types_integrators_know():
    declared = {cls.name: event_type for event_type, cls in webhooks.webhook_events().items()}
    assert declared == CONTRACT_EVENT_TYPES
    assert webhooks.webhook_event_types() == sorted(CONTRACT_EVENT_TYPES.values())


def test_the_reference_documents_the_fields_integrators_know():
    assert webhooks.event_data() == CONTRACT_EVENT_DATA
    reference = webhooks.event_reference()
    assert "| `charger.online` | `charger_id`, `identity`, `[ocpp_version]` |" in reference


def test_a_session_payload_keeps_its_value_formats(world, tenant_a):
    endpoint = endpoint_for(tenant_a, "https://hooks.a.test/s", events=["session.stopped"])
    session = world["session"]
    with scoping.scope(tenant_a):
        session.energy_wh, session.power_w = Decimal("1234.500"), Decimal("7200.000")
        session.stopped_at, session.state = session.started_at, SessionState.COMPLETED
        publish(SessionStopped.of(session))
        [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.payload["type"] == "session.stopped"
    assert delivery.payload["data"] == {
        "session_id": session.pk,
        "charger_id": session.charger_id,
        "transaction_id": "1",
        "evse_id": 1,
        "id_tag": "04AABBCC",
        "state": "completed",
        "energy_wh": "1234.500",
        "power_w": "7200.000",
        "started_at": session.started_at.isoformat(),
        "stopped_at": session.started_at.isoformat(),
        "stop_reason": "",
    }


def test_a_fresh_session_reports_its_energy_as_a_string(world, tenant_a, site_a):
    endpoint = endpoint_for(tenant_a, "https://hooks.a.test/s", events=["session.started"])
    with scoping.scope(tenant_a):
        answer = session_start(
            charger_id=world["charger"].pk,
            connector_id=1,
            id_tag="04AABBCC",
            meter_start=1000,
            timestamp=timezone.now(),
        )
        [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    data = delivery.payload["data"]
    assert (data["session_id"], data["energy_wh"], data["power_w"]) == (
        answer.session.pk,
        "0",
        None,
    )
    assert data["stopped_at"] is None and data["state"] == "active"
