"""API fixtures: a key per role for tenant A, charlie's admin key for tenant B, a platform staff
key per role, a client that presents a key (and optionally an X-Tenant header), and `world`:
one row of everything in tenant A for the route matrix."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chargers.alerts.models import Alert, AlertKind
from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    IdToken,
    MeterSample,
    OcppMessage,
    StatusEvent,
)
from cpms.models import (
    ApiKey,
    ApiKeyRole,
    Membership,
    WebhookDelivery,
    WebhookEndpoint,
)
from cpms.services import apikeys
from cpms.tenancy import scoping


def make_key(tenant, role, user=None, **fields) -> str:
    with scoping.scope(tenant):
        return apikeys.api_key_create(
            tenant=tenant, name=f"{role} key", role=role, created_by=user, **fields
        ).secret


def make_platform_key(role, user, **fields) -> str:
    return apikeys.platform_api_key_create(
        name=f"staff {role} key", role=role, created_by=user, **fields
    ).secret


@pytest.fixture
def api():
    """api(secret, tenant=None) -> a DRF test client sending `Authorization: Bearer <secret>`
    and, with a tenant slug, `X-Tenant: <tenant>`."""

    def client(secret=None, tenant=None):
        c = APIClient()
        headers = {}
        if secret:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        if tenant:
            headers["HTTP_X_TENANT"] = tenant
        c.credentials(**headers)
        return c

    return client


@pytest.fixture
def platform_keys(staff):
    """A platform staff key per role, held by the superuser `staff`."""
    return {role: make_platform_key(role, staff) for role in ApiKeyRole.values}


@pytest.fixture
def keys(tenant_a, tenant_b, alice, charlie):
    return {
        ApiKeyRole.READ_ONLY: make_key(tenant_a, ApiKeyRole.READ_ONLY, alice),
        ApiKeyRole.OPERATOR: make_key(tenant_a, ApiKeyRole.OPERATOR, alice),
        ApiKeyRole.ADMIN: make_key(tenant_a, ApiKeyRole.ADMIN, alice),
        "charlie": make_key(tenant_b, ApiKeyRole.ADMIN, charlie),
    }


@pytest.fixture
def world(tenant_a, site_a, owner_a, alice, bob, keys):
    """One row of every resource of tenant A, by the names the route table uses."""
    now = timezone.now()
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-A", site=site_a, ocpp_version="1.6")
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Available")
        StatusEvent.objects.create(
            charger=charger,
            evse_id=1,
            connector_id=1,
            status="Available",
            timestamp=now,
            received_at=now,
        )
        token = IdToken.objects.create(uid="04AABBCC", label="Card A")
        session = ChargingSession.objects.create(
            charger=charger,
            site=site_a,
            evse_id=1,
            connector_id=1,
            transaction_id="1",
            started_at=now,
            id_token=token,
            id_tag="04AABBCC",
        )
        MeterSample.objects.create(
            charger=charger,
            session=session,
            evse_id=1,
            timestamp=now,
            measurand="Energy.Active.Import.Register",
            value=1000,
            unit="Wh",
        )
        OcppMessage.objects.create(
            charger=charger,
            at=now,
            incoming=True,
            message_type=2,
            unique_id="m1",
            action="Authorize",
            body='[2,"m1","Authorize",{"idTag":"04AABBCC"}]',
        )
        ConnectionEvent.objects.create(
            charger=charger, connected_at=now, ocpp_version="1.6", remote_addr="198.51.100.7"
        )
        DeviceModelVariable.objects.create(
            charger=charger, component="SecurityCtrlr", variable="Identity", value="CP-A"
        )
        endpoint = WebhookEndpoint.objects.create(
            url="https://hooks.a.test/cpms", event_types=["session.started"], secret="whsec_a"
        )
        alert = Alert.objects.create(
            kind=AlertKind.CHARGER_OFFLINE,
            severity="critical",
            subject=f"charger:{charger.pk}",
            title="CP-A is offline",
            charger=charger,
            opened_at=now,
        )
        return {
            "alert": alert,
            "site": site_a,
            "owner": owner_a,
            "membership": Membership.objects.get(user=bob),
            "charger": charger,
            "spare_charger": Charger.objects.create(identity="CP-SPARE"),
            "session": session,
            "id_token": token,
            "command": Command.objects.create(charger=charger, action="Reset", payload={}),
            "spare_key": ApiKey.objects.get(role=ApiKeyRole.READ_ONLY),
            "endpoint": endpoint,
            "delivery": WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id="8e0e1b4c-2f0e-4a43-9a53-8d8f1f3f0a11",
                event_type="session.started",
                payload={"id": "8e0e1b4c-2f0e-4a43-9a53-8d8f1f3f0a11"},
            ),
        }
