import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from chargers.local_lists.models import LocalListPolicy
from chargers.models import Charger, IdToken
from cpms.catalogs import compile_catalogs
from cpms.models import Membership, Role, Site, Tenant, User
from cpms.tenancy import scoping
from tests.helpers import ROOT


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
        # Local lists: every token for the tenant, the fleet's cards at the offices.
        modes = LocalListPolicy.objects.values_list("site__name", "mode", "groups__uid")
        assert set(modes) == {(None, "all", None), ("Riverside Offices", "groups", "FLEET-GROUP")}
        roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.ADMIN, Role.OPERATOR, Role.VIEWER, Role.PORTAL}
    assert User.objects.filter(is_superuser=True).count() == 1
    for login in ["admin@demo.test", "operator@demo.test", "viewer@demo.test", "owner@demo.test"]:
        assert login in out.getvalue()


def test_importing_the_settings_creates_no_folder(tmp_path):
    # A copy of the settings module in an empty project: importing it must leave it empty.
    package = tmp_path / "cpms"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text((ROOT / "cpms" / "settings.py").read_text())
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "DATABASE_URL", "REDIS_URL"}}

    done = subprocess.run(
        [sys.executable, "-c", "import cpms.settings"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpms"]


def test_seed_demo_has_an_operator_who_reads_german(db, client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    greta = User.objects.get(email="greta@demo.test")
    assert greta.language == "de" and "greta@demo.test" in out.getvalue()
    with scoping.scope(Tenant.objects.get(slug="demo")):
        assert Membership.objects.get(user=greta).role == Role.OPERATOR
    compile_catalogs()
    client.force_login(greta)

    page = client.get("/t/demo/chargers/").content.decode()

    assert '<html lang="de">' in page and "Ladestationen" in page


@pytest.fixture
def served(monkeypatch, settings):
    """`manage.py serve` up to daphne's start: the argv daphne would get."""
    from cpms import daphne
    from cpms.management.commands import serve

    argvs = []
    monkeypatch.setattr(daphne.CommandLineInterface, "run", lambda self, argv: argvs.append(argv))
    monkeypatch.setattr(serve, "calm_the_garbage_collector", lambda: None)
    monkeypatch.delenv("SITE_URL", raising=False)
    # Set through the fixture: whatever the command writes is undone after the test.
    settings.SITE_URL = "http://127.0.0.1:8000"
    return argvs


def test_serve_on_another_port_links_to_that_port(served, settings):
    from chargers.firmware import links

    call_command("serve", "--port", "8137", "--no-worker")

    assert served and "tcp:port=8137:interface=127.0.0.1:backlog=4096" in served[0]
    assert settings.SITE_URL == os.environ["SITE_URL"] == "http://127.0.0.1:8137"
    assert links.upload_url("a", "t").startswith("http://127.0.0.1:8137/")


def test_serve_listens_with_a_backlog_for_a_fleet_reconnecting_at_once(served):
    call_command("serve", "--host", "::1", "--port", "8137", "--no-worker")

    (argv,) = served
    assert argv[argv.index("-e") + 1] == r"tcp:port=8137:interface=\:\:1:backlog=4096"
    assert "-b" not in argv and "-p" not in argv


def test_serve_keeps_a_site_url_that_is_set(served, settings, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://cpms.example.com")
    settings.SITE_URL = "https://cpms.example.com"

    call_command("serve", "--port", "8137", "--no-worker")

    assert settings.SITE_URL == "https://cpms.example.com"


def test_seed_demo_tags_a_few_chargers_and_keeps_an_operators_later_tags(db):
    call_command("seed_demo", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo")
    with scoping.scope(tenant):
        tagged = dict(Charger.objects.exclude(tags=[]).values_list("identity", "tags"))
        assert tagged == {
            "DEMO-0001": ["beta-firmware"],
            "DEMO-0002": ["beta-firmware"],
            "DEMO-0005": ["depot"],
            "DEMO-0006": ["depot"],
        }
        Charger.objects.filter(identity="DEMO-0001").update(tags=["retagged"])
    call_command("seed_demo", stdout=io.StringIO())
    with scoping.scope(tenant):
        assert Charger.objects.get(identity="DEMO-0001").tags == ["retagged"]
