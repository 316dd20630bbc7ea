"""Shared fixtures: two tenants and the personas of every isolation test, and the API's keys
and client, which the tests of both tests/chargers/api and tests/cpms/api use.

alice: tenant A admin; bob: tenant A viewer; olga: tenant A operator; paula: tenant A site-owner
portal member; charlie: tenant B admin. Everything of tenant A must be invisible to charlie.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import ChargeDetailRecord, Invoice, InvoiceLine, Statement
from billing.services import (
    assignment_create,
    customer_create,
    site_share_set,
    tariff_create,
)
from chargers.alerts.models import Alert, AlertKind
from chargers.local_lists.models import LocalListPolicy
from chargers.models import (
    Charger,
    ChargingSession,
    Command,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    IdToken,
    OcppMessage,
)
from cpms.models import (
    ApiKey,
    ApiKeyRole,
    Membership,
    Role,
    Site,
    SiteOwner,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from cpms.paths import make_var_dirs
from cpms.tenancy import scoping
from tests.chargers.certificates.world import certificates_world
from tests.chargers.configuration.world import configuration_world
from tests.chargers.factories import make_load_tree, meter_sample, status_event
from tests.chargers.firmware.world import firmware_world
from tests.chargers.reservations.world import reservations_world
from tests.factories import (
    PASSWORD,
    make_audit_entry,
    make_key,
    make_member,
    make_platform_key,
)

# The OCPP server in a child process and chargers for it, for every package's tests; the
# workers' databases when the suite runs in parallel; a cheaper flush after transactional tests.
pytest_plugins = ["tests.chargers.ocpp.fixtures", "tests.parallel", "tests.flush"]


def pytest_configure(config):
    # The embedded defaults keep the test database and server logs there.
    make_var_dirs()
    # People's passwords use a deliberately slow hash; tests create hundreds of them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not settings.CI:
        return
    # CI=true promises PostgreSQL and Redis for real: refuse to fall back to anything else.
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "cpms.postgresql":
        pytest.exit(f"CI=true but DATABASE_URL is not PostgreSQL ({db['ENGINE']})", returncode=3)
    try:
        psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.Error as error:
        pytest.exit(f"CI=true but PostgreSQL is unreachable: {error}", returncode=3)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        pytest.exit(
            f"CI=true but Redis is unreachable at {settings.REDIS_URL}: {error}", returncode=3
        )
    # A statement waiting for a lock (a flush behind a connection some thread left in a
    # transaction) fails after a minute, and the report names the sessions (below), instead of
    # the test hanging until its timeout with nothing said.
    options = db.setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c lock_timeout=60000".strip()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and "lock timeout" in str(call.excinfo.value):
        report.sections.append(("database sessions when a lock timed out", _database_sessions()))
    return report


def _database_sessions() -> str:
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as spy:
        rows = spy.execute(
            "SELECT pid, application_name, state, xact_start, wait_event_type, left(query, 300)"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


@pytest.fixture(autouse=True)
def fresh_webhook_endpoints():
    """Each test starts with no process-cached view of anyone's webhook endpoints: tenant
    ids come round again once a test's rows are gone."""
    from cpms.services import webhooks

    webhooks.forget_all_endpoints()


@pytest.fixture(autouse=True)
def fresh_handshake_throttle():
    """Each test's chargers start with no refused handshakes counted against them (the
    server in this process shares the counts: tests/chargers/ocpp/in_process.py)."""
    from chargers.ocpp.throttle import throttle

    throttle.reset()


@pytest.fixture(autouse=True)
def fresh_tenant_facts():
    """Each test's tenants start unknown to what the listeners remember of them (cpms/memo.py):
    tenant ids come round again."""
    from cpms import memo

    memo.forget_all()


@pytest.fixture
def tenant_a(db):
    return Tenant.objects.create(slug="tenant-a", name="Tenant A", timezone="Europe/Berlin")


@pytest.fixture
def tenant_b(db):
    return Tenant.objects.create(slug="tenant-b", name="Tenant B", timezone="America/New_York")


@pytest.fixture
def owner_a(tenant_a):
    with scoping.scope(tenant_a):
        return SiteOwner.objects.create(name="Mall A GmbH")


@pytest.fixture
def site_a(tenant_a, owner_a):
    with scoping.scope(tenant_a):
        return Site.objects.create(name="Mall A", site_owner=owner_a, city="Hamburg")


@pytest.fixture
def alice(tenant_a):
    return make_member(tenant_a, "alice@a.test", Role.ADMIN, staff=True)


@pytest.fixture
def bob(tenant_a):
    return make_member(tenant_a, "bob@a.test", Role.VIEWER)


@pytest.fixture
def olga(tenant_a):
    return make_member(tenant_a, "olga@a.test", Role.OPERATOR)


@pytest.fixture
def paula(tenant_a, owner_a):
    return make_member(tenant_a, "paula@a.test", Role.PORTAL, site_owner=owner_a)


@pytest.fixture
def charlie(tenant_b):
    return make_member(tenant_b, "charlie@b.test", Role.ADMIN, staff=True)


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="staff@platform.test", password=PASSWORD)


@pytest.fixture
def client_for(client):
    """Log a persona in: client_for(alice)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def in_scope():
    """Read or write rows of a tenant inside a test: `with in_scope(tenant_a): ...`."""
    return scoping.scope


# --- The API --------------------------------------------------------------------------------------


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
def world(tenant_a, site_a, owner_a, alice, bob, keys, settings, tmp_path):
    """One row of every resource of tenant A, by the names the route table uses."""
    now = timezone.now()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-A", site=site_a, ocpp_version="1.6")
        Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Available")
        status_event(charger, at=now).save()
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
        meter_sample(charger, now, 1000, session=session, unit="Wh").save()
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
        tariff = tariff_create(
            name="Tariff A",
            currency="EUR",
            elements=[{"price_components": [{"type": "ENERGY", "price": 0.39, "step_size": 1}]}],
        )
        cdr = ChargeDetailRecord.objects.create(
            session=session,
            issued_at=now,
            charger=charger,
            site=site_a,
            evse_id=1,
            connector_id=1,
            id_tag="04AABBCC",
            id_token=token,
            start_date_time=now,
            end_date_time=now,
            tariff=tariff,
            tariff_version=tariff.versions.get(),
            currency="EUR",
            total_energy=0,
            total_time=0,
            total_parking_time=0,
            total_excl_vat_minor=0,
            total_incl_vat_minor=0,
            charging_periods=[],
            lines=[],
            vat_groups=[],
            fingerprint="0" * 64,
        )
        customer = customer_create(name="Fleet A", groups=[token])
        invoice = Invoice.objects.create(
            customer=customer,
            kind="invoice",
            series="INV",
            number=1,
            period_start=now.date(),
            period_end=now.date(),
            issued_at=now,
            currency="EUR",
            total_excl_vat_minor=0,
            total_incl_vat_minor=0,
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            cdr=cdr,
            description="Session at CP-A",
            total_excl_vat_minor=0,
            total_incl_vat_minor=0,
        )
        statement = Statement.objects.create(
            site_owner=SiteOwner.objects.create(name="Depot owner"),
            period_start=now.date(),
            period_end=now.date(),
            issued_at=now,
            currency="EUR",
            revenue_minor=0,
            share_minor=0,
            fees_minor=0,
            payout_minor=0,
            sites=[],
        )
        firmware = firmware_world(charger, site_a)
        configuration = configuration_world(charger)
        return {
            "site_share": site_share_set(site=site_a, revenue_share_percent=Decimal(30)),
            "spare_site": Site.objects.create(name="Depot B"),
            "statement": statement,
            "customer": customer,
            "spare_customer": customer_create(name="Spare customer"),
            "invoice": invoice,
            "tariff": tariff,
            "tariff_assignment": assignment_create(tariff=tariff, site=site_a),
            "cdr": cdr,
            **firmware,
            **reservations_world(site_a, token),
            **configuration,
            **certificates_world(charger),
            "alert": alert,
            "audit_entry": make_audit_entry(object_id=str(charger.pk)),
            "local_list_policy": LocalListPolicy.objects.create(site=site_a, mode="all"),
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
            **make_load_tree(site_a, charger, session),
        }
