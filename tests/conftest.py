"""Shared fixtures: two tenants and the personas of every isolation test.

alice: tenant A admin; bob: tenant A viewer; olga: tenant A operator; paula: tenant A site-owner
portal member; charlie: tenant B admin. Everything of tenant A must be invisible to charlie.
"""

import pytest
from django.conf import settings

from cpms.models import Membership, Role, Site, SiteOwner, Tenant, User
from cpms.paths import make_var_dirs
from cpms.tenancy import scoping

PASSWORD = "correct-horse-battery-staple"

# The OCPP server in a child process and chargers for it, for every package's tests.
pytest_plugins = ["tests.chargers.ocpp.fixtures"]


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
    if db["ENGINE"] != "django.db.backends.postgresql":
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


@pytest.fixture(autouse=True)
def fresh_webhook_endpoints():
    """Each test starts with no process-cached view of anyone's webhook endpoints: tenant
    ids come round again once a test's rows are gone."""
    from cpms.services import webhooks

    webhooks.forget_all_endpoints()


@pytest.fixture
def tenant_a(db):
    return Tenant.objects.create(slug="tenant-a", name="Tenant A", timezone="Europe/Berlin")


@pytest.fixture
def tenant_b(db):
    return Tenant.objects.create(slug="tenant-b", name="Tenant B", timezone="America/New_York")


def make_member(tenant, email, role, site_owner=None, staff=False):
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=staff)
    with scoping.scope(tenant):
        Membership.objects.create(tenant=tenant, user=user, role=role, site_owner=site_owner)
    return user


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
