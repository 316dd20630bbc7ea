"""The role matrix and tenant isolation of every dashboard and portal page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Customer, Invoice, Statement
from billing.services import assignment_create, customer_create, tariff_create
from chargers.models import Command, IdToken
from cpms.models import ROLE_RANK, ApiKey, Membership, Role, Site, SiteOwner
from cpms.services.apikeys import api_key_create
from cpms.tenancy import scoping
from tests.chargers.certificates.world import plug_and_charge_world
from tests.chargers.configuration.world import configuration_world
from tests.chargers.factories import make_fleet
from tests.chargers.firmware.world import firmware_world
from tests.chargers.reservations.world import reservations_world
from tests.cpms.pages import OPERATOR_PAGES, PORTAL_PAGES, POST_ONLY, tenant_page_names
from tests.factories import make_audit_entry


@pytest.fixture
def world(tenant_a, site_a, owner_a, alice, bob, olga, paula, charlie, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with scoping.scope(tenant_a):
        # A charger, its session and an alert, for the fleet dashboard's pages.
        fleet = make_fleet(site_a)
        tariff = tariff_create(
            name="Tariff A",
            currency="EUR",
            elements=[{"price_components": [{"type": "ENERGY", "price": 0.39}]}],
        )
        customer = customer_create(name="Fleet A")
        invoice = Invoice.objects.create(
            customer=customer, kind="invoice", series="INV", number=1,
            period_start=tariff.created_at.date(), period_end=tariff.created_at.date(),
            issued_at=tariff.created_at, currency="EUR",
            total_excl_vat_minor=600, total_incl_vat_minor=714,
        )  # fmt: skip
        statement = Statement.objects.create(
            site_owner=owner_a, period_start=tariff.created_at.date(),
            period_end=tariff.created_at.date(), issued_at=tariff.created_at, currency="EUR",
            revenue_minor=1000, share_minor=300, fees_minor=0, payout_minor=300, sites=[],
            recipient={"name": owner_a.name},
        )  # fmt: skip
        token = IdToken.objects.create(uid="04AABBCC", label="Card A")
        return {
            "invoice": invoice,
            "customer": customer,
            "statement": statement,
            "tariff": tariff,
            "tariff_assignment": assignment_create(tariff=tariff, site=site_a),
            "site": site_a,
            "owner": owner_a,
            "membership": Membership.objects.get(user=bob),
            "id_token": token,
            **reservations_world(site_a, token),
            "api_key": api_key_create(tenant=tenant_a, name="Billing", role="read_only").key,
            **fleet,
            "command": Command.objects.create(charger=fleet["charger"], action="Reset"),
            **firmware_world(fleet["charger"], site_a),
            **configuration_world(fleet["charger"]),
            **plug_and_charge_world(fleet["charger"], timezone.now()),
            "audit_entry": make_audit_entry(object_id=str(fleet["charger"].pk)),
        }


def url(name, obj_key, world, slug="tenant-a"):
    kwargs = {"tenant_slug": slug}
    if obj_key:
        kwargs["pk"] = world[obj_key].pk
    return reverse(name, kwargs=kwargs)


def test_every_tenant_page_is_in_the_matrix():
    assert tenant_page_names() == set(OPERATOR_PAGES) | set(PORTAL_PAGES)


PERSONAS = {"alice": Role.ADMIN, "olga": Role.OPERATOR, "bob": Role.VIEWER, "paula": Role.PORTAL}


@pytest.mark.parametrize("name", sorted(OPERATOR_PAGES))
@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_operator_pages_follow_the_role_matrix(client, world, request, persona, name):
    needed, obj_key = OPERATOR_PAGES[name]
    client.force_login(request.getfixturevalue(persona))
    allowed = ROLE_RANK.get(PERSONAS[persona], 0) >= ROLE_RANK[needed]
    expected = (405 if name in POST_ONLY else 200) if allowed else 403
    assert client.get(url(name, obj_key, world)).status_code == expected


@pytest.mark.parametrize("name", sorted(OPERATOR_PAGES) + sorted(PORTAL_PAGES))
def test_charlie_gets_404_on_every_tenant_a_page(client, world, charlie, name):
    obj_key = OPERATOR_PAGES[name][1] if name in OPERATOR_PAGES else PORTAL_PAGES[name]
    client.force_login(charlie)
    assert client.get(url(name, obj_key, world)).status_code == 404
    assert client.post(url(name, obj_key, world), {}).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "site_detail",
        "site_owner_detail",
        "member_edit",
        "id_token_edit",
        "site_edit",
        "command_outcome",
        "invoice_pdf",
        "invoice_lines_export",
        "statement_detail",
        "statement_pdf",
        "customer_detail",
        "customer_edit",
    ],
)
def test_charlie_gets_404_for_tenant_a_ids_under_his_own_slug(client, world, charlie, name):
    client.force_login(charlie)
    obj_key = OPERATOR_PAGES[name][1]
    assert client.get(url(name, obj_key, world, slug="tenant-b")).status_code == 404


def test_an_unknown_tenant_and_a_foreign_tenant_look_the_same(client, world, charlie):
    client.force_login(charlie)
    foreign = client.get("/t/tenant-a/")
    missing = client.get("/t/no-such-tenant/")
    assert foreign.status_code == missing.status_code == 404
    assert without_csrf(foreign.content) == without_csrf(missing.content)


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


@pytest.mark.parametrize("name", sorted(OPERATOR_PAGES) + sorted(PORTAL_PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client, world, name):
    obj_key = OPERATOR_PAGES[name][1] if name in OPERATOR_PAGES else PORTAL_PAGES[name]
    response = client.get(url(name, obj_key, world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona,expected", [("paula", 200), ("alice", 403), ("bob", 403)])
@pytest.mark.parametrize("name", sorted(PORTAL_PAGES))
def test_portal_pages_are_for_portal_members_only(client, world, request, persona, expected, name):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(name, PORTAL_PAGES[name], world)).status_code == expected


def test_the_portal_shows_only_the_owners_own_sites(client, world, tenant_a, paula):
    with scoping.scope(tenant_a):
        other = Site.objects.create(name="Someone else's depot")
    client.force_login(paula)
    home = client.get(reverse("portal_home", kwargs={"tenant_slug": "tenant-a"}))
    assert b"Mall A" in home.content and b"Someone else" not in home.content
    page = reverse("portal_site", kwargs={"tenant_slug": "tenant-a", "pk": other.pk})
    assert client.get(page).status_code == 404


# --- bob cannot write --------------------------------------------------------------------------

WRITES = [
    ("site_create", None, {"name": "New", "timezone": "UTC"}),
    ("site_edit", "site", {"name": "Renamed", "timezone": "UTC"}),
    ("site_owner_create", None, {"name": "New owner"}),
    ("site_owner_edit", "owner", {"name": "Renamed owner"}),
    ("member_create", None, {"email": "eve@a.test", "role": "admin"}),
    ("member_edit", "membership", {"email": "bob@a.test", "role": "admin"}),
    ("member_remove", "membership", {}),
    ("id_token_create", None, {"uid": "NEW1", "type": "ISO14443"}),
    ("id_token_edit", "id_token", {"uid": "04AABBCC", "type": "ISO14443", "blocked": "on"}),
    ("api_key_revoke", "api_key", {}),
    ("customer_create", None, {"name": "New customer", "kind": "fleet"}),
    ("customer_edit", "customer", {"name": "Renamed customer", "kind": "employer"}),
]


def snapshot(tenant):
    with scoping.scope(tenant):
        return (
            sorted(Site.objects.values_list("name", flat=True)),
            sorted(SiteOwner.objects.values_list("name", flat=True)),
            sorted(Membership.objects.values_list("user__email", "role")),
            sorted(IdToken.objects.values_list("uid", "blocked")),
            sorted(ApiKey.objects.values_list("prefix", "revoked_at")),
            sorted(Customer.objects.values_list("name", "kind")),
        )


@pytest.mark.parametrize("who,status", [("bob", 403), ("charlie", 404)])
@pytest.mark.parametrize("name,obj_key,data", WRITES)
def test_a_viewer_or_another_tenant_cannot_write(
    client, world, tenant_a, request, who, status, name, obj_key, data
):
    """bob is tenant A's viewer (403); charlie is tenant B's admin, to whom A's pages do not
    exist (404). Either way nothing of tenant A changes."""
    before = snapshot(tenant_a)
    client.force_login(request.getfixturevalue(who))
    assert client.post(url(name, obj_key, world), data).status_code == status
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("name,obj_key,data", WRITES)
def test_alice_the_admin_can_write(client, world, tenant_a, alice, name, obj_key, data):
    before = snapshot(tenant_a)
    client.force_login(alice)
    response = client.post(url(name, obj_key, world), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert snapshot(tenant_a) != before


def test_an_admin_creates_an_api_key_and_sees_its_secret_once(client, world, tenant_a, alice):
    client.force_login(alice)
    page = reverse("api_key_list", kwargs={"tenant_slug": "tenant-a"})
    created = client.post(page, {"name": "Reporting", "role": "read_only"}, follow=True)
    assert created.redirect_chain == [(page, 302)]
    secret = created.context["new_secret"]
    assert secret.startswith("cpms_") and secret.encode() in created.content
    assert created["Cache-Control"].startswith("max-age=0")
    with scoping.scope(tenant_a):
        key = ApiKey.objects.get(name="Reporting")
    assert secret not in key.secret_hash and key.prefix in secret
    assert secret.encode() not in client.get(page).content


def test_reloading_after_creating_an_api_key_creates_no_second_key(client, world, tenant_a, alice):
    client.force_login(alice)
    page = reverse("api_key_list", kwargs={"tenant_slug": "tenant-a"})
    created = client.post(page, {"name": "Reporting", "role": "read_only"})
    # The browser is sent on with a GET: reloading what it then shows repeats only the GET.
    assert created.status_code == 302 and created["Location"] == page
    client.get(created["Location"])
    client.get(created["Location"])
    with scoping.scope(tenant_a):
        assert ApiKey.objects.filter(name="Reporting").count() == 1


def test_an_api_key_cannot_expire_in_the_past(client, world, alice):
    client.force_login(alice)
    page = reverse("api_key_list", kwargs={"tenant_slug": "tenant-a"})
    response = client.post(page, {"name": "Old", "role": "admin", "expires_at": "2001-01-01T00:00"})
    assert b"Choose a time in the future" in response.content


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_no_inline_script(response):
    if not response["Content-Type"].startswith("text/html"):
        return  # an export: nothing for a browser to run
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src == "'self'", policy
    page = response.content.decode()
    assert not INLINE_SCRIPT.search(page) and not INLINE_HANDLER.search(page)


@pytest.mark.parametrize("name", sorted(set(OPERATOR_PAGES) - POST_ONLY))
def test_every_operator_page_forbids_inline_script_and_has_none(client, world, alice, name):
    client.force_login(alice)
    response = client.get(url(name, OPERATOR_PAGES[name][1], world))
    assert response.status_code == 200
    assert_no_inline_script(response)


@pytest.mark.parametrize("name", ["portal_home", "portal_site"])
def test_every_portal_page_forbids_inline_script_and_has_none(client, world, paula, name):
    client.force_login(paula)
    response = client.get(url(name, PORTAL_PAGES[name], world))
    assert response.status_code == 200
    assert_no_inline_script(response)


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/docs/", "/platform/"])
def test_the_pages_outside_tenants_forbid_inline_script_and_have_none(client, world, path):
    from cpms.models import User

    client.force_login(User.objects.create_superuser(email="root@x.test", password="x" * 20))
    response = client.get(path)
    assert response.status_code == 200
    assert_no_inline_script(response)
