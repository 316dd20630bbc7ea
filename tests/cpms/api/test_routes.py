"""The route matrix: every API route and method, for each key role (tenant keys, and platform
staff keys naming tenant A in X-Tenant) and for strangers (another tenant's key, a platform
key naming another tenant). Built from tests/cpms/api/routes.py, which must cover the URLconf."""

import pytest
from django.urls import reverse

from billing.models import (
    ChargeDetailRecord,
    Customer,
    CustomerGroup,
    Invoice,
    InvoiceLine,
    SiteShare,
    Statement,
    Tariff,
    TariffAssignment,
    TariffVersion,
)
from chargers.certificates.models import (
    CertificateAuthority,
    CertificateOperation,
    CertificateSettings,
)
from chargers.configuration.models import (
    ApplyResult,
    ApplyRun,
    ConfigTemplate,
    Drift,
    TemplateEntry,
)
from chargers.firmware.models import Campaign, DiagnosticsRequest, FirmwareImage
from chargers.local_lists.models import ChargerLocalList, LocalListPolicy
from chargers.models import Charger, ChargingSession, Command, IdToken
from chargers.reservations.models import Reservation
from chargers.smart_charging.models import GroupPriority
from cpms.models import (
    API_KEY_ROLE_AS_MEMBER,
    ROLE_RANK,
    ApiKey,
    ApiKeyRole,
    Membership,
    Site,
    SiteOwner,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
)
from cpms.tenancy import scoping
from tests.cpms.api.routes import ROUTES, api_routes

SNAPSHOT_MODELS = [
    GroupPriority,
    Site,
    SiteOwner,
    Membership,
    Charger,
    ChargingSession,
    IdToken,
    Command,
    WebhookEndpoint,
    WebhookDelivery,
    Tariff,
    TariffVersion,
    TariffAssignment,
    ChargeDetailRecord,
    Customer,
    CustomerGroup,
    Invoice,
    InvoiceLine,
    SiteShare,
    Statement,
    FirmwareImage,
    Campaign,
    DiagnosticsRequest,
    Reservation,
    LocalListPolicy,
    ChargerLocalList,
    ConfigTemplate,
    TemplateEntry,
    Drift,
    ApplyRun,
    ApplyResult,
    CertificateAuthority,
    CertificateSettings,
    CertificateOperation,
]


def snapshot(tenant):
    """Every row of tenant A that a request could change (key use times aside)."""
    with scoping.scope(tenant):
        rows = {m.__name__: list(m.objects.order_by("pk").values()) for m in SNAPSHOT_MODELS}
        rows["ApiKey"] = list(ApiKey.objects.order_by("pk").values("pk", "name", "revoked_at"))
    rows["Tenant"] = list(Tenant.objects.filter(pk=tenant.pk).values())
    return rows


def call(client, name, method, world, obj_key=None, body=None):
    kwargs = {"pk": world[obj_key].pk} if obj_key else {}
    url = reverse(f"api:{name}", kwargs=kwargs)
    body = body(world) if callable(body) else body
    if method == "get":
        return client.get(url, body or {})
    return getattr(client, method)(url, body, format="json")


# The routes that send a command to a charger.
SENDING = {"command-list", "certificate-rotation-list", "certificate-operation-list"}


def cases(routes):
    """Routes as test cases. Sending a command crosses threads (the channel layer's client
    runs in asgiref's), which only sees committed rows: those cases run transactionally."""
    return [
        pytest.param(
            route,
            id=f"{route[1]}-{route[0]}",
            marks=[pytest.mark.django_db(transaction=True)] if route[0] in SENDING else [],
        )
        for route in routes
    ]


def test_every_api_route_and_method_is_in_the_matrix():
    assert api_routes() == set(ROUTES)


ROLES = [ApiKeyRole.READ_ONLY, ApiKeyRole.OPERATOR, ApiKeyRole.ADMIN]


def assert_role_decides(response, role, route, before, tenant):
    needed = ROUTES[route][0]
    if ROLE_RANK[API_KEY_ROLE_AS_MEMBER[role]] >= ROLE_RANK[needed]:
        assert 200 <= response.status_code < 300, response.content[:500]
    else:
        assert response.status_code == 403, response.content[:500]
        assert response.json()["error"]["code"] == "permission_denied"
        assert snapshot(tenant) == before


@pytest.mark.parametrize("route", cases(sorted(ROUTES)))
@pytest.mark.parametrize("role", ROLES)
def test_each_key_gets_what_its_role_allows(api, world, keys, tenant_a, role, route):
    _, obj_key, body = ROUTES[route]
    before = snapshot(tenant_a)
    response = call(api(keys[role]), *route, world, obj_key, body)
    assert_role_decides(response, role, route, before, tenant_a)


@pytest.mark.parametrize("route", cases(sorted(ROUTES)))
@pytest.mark.parametrize("role", ROLES)
def test_a_platform_key_naming_the_tenant_gets_what_its_role_allows(
    api, world, platform_keys, tenant_a, role, route
):
    _, obj_key, body = ROUTES[route]
    before = snapshot(tenant_a)
    response = call(api(platform_keys[role], "tenant-a"), *route, world, obj_key, body)
    assert_role_decides(response, role, route, before, tenant_a)


@pytest.fixture(params=["charlie", "platform-key-naming-b"])
def stranger(request, api, keys, platform_keys):
    """Someone acting for tenant B: charlie's key, or a platform key naming tenant B."""
    if request.param == "charlie":
        return api(keys["charlie"])
    return api(platform_keys[ApiKeyRole.ADMIN], "tenant-b")


DETAIL_ROUTES = sorted(route for route, (_, obj_key, _) in ROUTES.items() if obj_key)
LIST_READS = sorted(r for r, (_, obj_key, _) in ROUTES.items() if not obj_key and r[1] == "get")
LIST_WRITES = sorted(r for r, (_, obj_key, _) in ROUTES.items() if not obj_key and r[1] != "get")


@pytest.mark.parametrize("route", cases(DETAIL_ROUTES))
def test_another_tenants_key_gets_404_for_every_object_and_changes_nothing(
    stranger, world, tenant_a, route
):
    needed, obj_key, body = ROUTES[route]
    before = snapshot(tenant_a)
    response = call(stranger, *route, world, obj_key, body)
    assert response.status_code == 404, response.content[:500]
    assert response.json()["error"]["code"] == "not_found"
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("route", LIST_READS, ids=lambda r: r[0])
def test_another_tenants_key_sees_nothing_of_tenant_a(stranger, world, route):
    needed, obj_key, body = ROUTES[route]
    if route[0] == "meter-sample-series":
        # Tenant A's charger id names nothing in tenant B: no points.
        response = call(stranger, *route, world, obj_key, body)
        assert response.status_code == 200 and response.json() == []
        return
    response = call(stranger, *route, world, obj_key, body)
    assert response.status_code == 200
    text = b"".join(response) if response.streaming else response.content
    text = text.decode()
    markers = ["CP-A", "Mall A", "04AABBCC", "hooks.a.test", "bob@a.test", "alice@a.test"]
    for marker in [*markers, "198.51.100.7"]:
        assert marker not in text


@pytest.mark.parametrize("route", cases(LIST_WRITES))
def test_another_tenants_key_never_writes_into_tenant_a(stranger, world, tenant_a, route):
    needed, obj_key, body = ROUTES[route]
    before = snapshot(tenant_a)
    response = call(stranger, *route, world, obj_key, body)
    # Either it acts on tenant B's own data, or (a tenant A id in the body) names the field.
    if response.status_code == 400:
        assert response.json()["error"]["fields"]
    else:
        assert 200 <= response.status_code < 300, response.content[:500]
    assert snapshot(tenant_a) == before


def test_no_key_gets_401_and_a_bearer_challenge(api, world):
    response = api().get(reverse("api:site-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
