import io

import pytest
from django.core.management import CommandError, call_command

from chargers.models import IdToken
from cpms.models import Membership, Role, Site, Tenant, User
from cpms.tenancy import scoping


def test_create_tenant_creates_the_tenant_and_its_first_admin(db):
    out = io.StringIO()
    call_command(
        "create_tenant",
        "acme",
        "Acme Charging",
        admin_email="Boss@Acme.test",
        admin_password="s3cret-pass-word",
        stdout=out,
    )
    tenant = Tenant.objects.get(slug="acme")
    with scoping.scope(tenant):
        membership = Membership.objects.get()
    assert membership.role == Role.ADMIN and membership.user.email == "boss@acme.test"
    assert membership.user.check_password("s3cret-pass-word")
    assert "/ocpp/acme/" in out.getvalue()


def test_create_tenant_errors_clearly_on_a_taken_slug(tenant_a):
    with pytest.raises(CommandError, match="slug 'tenant-a' exists already"):
        call_command("create_tenant", "tenant-a", "Again", admin_email="x@y.test")
    assert Tenant.objects.count() == 1


def test_create_tenant_refuses_a_bad_slug(db):
    with pytest.raises(CommandError, match="slug"):
        call_command("create_tenant", "Bad Slug!", "X", admin_email="x@y.test")
    assert not Tenant.objects.exists()


def test_seed_demo_is_idempotent_and_prints_the_logins(db):
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    tenant = Tenant.objects.get(slug="demo")
    with scoping.scope(tenant):
        assert Site.objects.count() == 2
        assert IdToken.objects.filter(blocked=True).count() == 1
        roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.ADMIN, Role.OPERATOR, Role.VIEWER, Role.PORTAL}
    assert User.objects.filter(is_superuser=True).count() == 1
    for login in ["admin@demo.test", "operator@demo.test", "viewer@demo.test", "owner@demo.test"]:
        assert login in out.getvalue()
