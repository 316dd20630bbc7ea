"""The audit log end to end: what the dashboard and the API record, who may read it, and that
nobody can change it."""

import csv
import io
import json
from datetime import timedelta

import pytest
from celery import shared_task
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from chargers.models import Charger, IdToken
from chargers.services.chargers import charger_create, charger_update
from cpms.audit import context as audit_context
from cpms.audit.models import AuditEntry, ImmutableEntry
from cpms.audit.services import audit_purge
from cpms.models import ApiKeyRole, Membership, Role, Site
from cpms.tenancy import scoping
from tests.factories import make_audit_entry

SECRET_PASSWORD = "a-very-secret-password-1234"  # noqa: S105


def page(name, slug="tenant-a", **kwargs):
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


def entries(tenant):
    with scoping.scope(tenant):
        return list(AuditEntry.objects.order_by("id"))


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return charger_create(identity="CP-AUDIT", site=site_a).charger


@pytest.fixture
def depot(tenant_a):
    with scoping.scope(tenant_a):
        return Site.objects.create(name="Depot")


@pytest.fixture
def token(tenant_a):
    with scoping.scope(tenant_a):
        return IdToken.objects.create(uid="04AUDIT01", label="Audit card")


# --- What is recorded ---------------------------------------------------------------------


def test_a_charger_moved_on_the_dashboard_is_recorded_with_who_when_where_and_what(
    client_for, alice, tenant_a, charger, site_a, depot
):
    client = client_for(alice)
    before = timezone.now()

    client.post(
        page("charger_edit", pk=charger.pk),
        {"site": depot.pk},
        HTTP_USER_AGENT="Firefox/140",
        REMOTE_ADDR="203.0.113.9",
    )

    [entry] = entries(tenant_a)
    assert (entry.actor_kind, entry.actor_label, entry.actor_user_id) == (
        "user",
        "alice@a.test",
        alice.pk,
    )
    assert entry.actor_role == Role.ADMIN
    assert entry.door == "web"
    assert (entry.ip_address, entry.user_agent) == ("203.0.113.9", "Firefox/140")
    assert entry.at >= before
    assert (entry.action, entry.object_type, entry.object_id) == (
        "update",
        "charger",
        str(charger.pk),
    )
    assert entry.object_label == "CP-AUDIT"
    assert entry.changes == {"site": {"before": site_a.pk, "after": depot.pk}}


def test_the_client_address_is_the_one_the_trusted_proxy_forwarded(
    client_for, alice, tenant_a, charger, depot, settings
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    client_for(alice).post(
        page("charger_edit", pk=charger.pk),
        {"site": depot.pk},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.40",
    )

    assert entries(tenant_a)[0].ip_address == "198.51.100.40"


def test_the_api_records_a_charger_move_as_the_dashboard_does(
    api, keys, client_for, alice, tenant_a, charger, site_a, depot
):
    client_for(alice).post(page("charger_edit", pk=charger.pk), {"site": depot.pk})
    api(keys[ApiKeyRole.ADMIN]).patch(
        f"/api/v1/chargers/{charger.pk}/",
        {"site": site_a.pk},
        format="json",
        HTTP_USER_AGENT="fleet-tool/2.1",
    )

    web, by_key = entries(tenant_a)
    assert (web.action, web.object_type, web.object_id) == (
        by_key.action,
        by_key.object_type,
        by_key.object_id,
    )
    assert by_key.changes == {"site": {"before": depot.pk, "after": site_a.pk}}
    assert (by_key.actor_kind, by_key.door, by_key.actor_role) == ("api_key", "api", "admin")
    assert by_key.actor_label.startswith("admin key (cpms_")
    assert by_key.actor_key_id is not None and by_key.user_agent == "fleet-tool/2.1"


def test_blocking_a_token_is_the_same_entry_from_the_dashboard_and_the_api(
    api, keys, client_for, olga, tenant_a, token
):
    client_for(olga).post(page("id_token_block", pk=token.pk), {"blocked": "1"})
    api(keys[ApiKeyRole.OPERATOR]).patch(
        f"/api/v1/id-tokens/{token.pk}/", {"blocked": False}, format="json"
    )

    web, by_key = entries(tenant_a)
    assert (web.action, web.object_type, web.object_label, web.actor_role) == (
        "block",
        "id_token",
        "04AUDIT01",
        Role.OPERATOR,
    )
    assert web.changes == {"blocked": {"before": False, "after": True}}
    assert (by_key.action, by_key.changes) == (
        "unblock",
        {"blocked": {"before": True, "after": False}},
    )


def test_a_charger_password_is_recorded_masked_from_either_door(
    api, keys, client_for, alice, tenant_a, charger
):
    client_for(alice).post(
        page("charger_credentials", pk=charger.pk), {"password": SECRET_PASSWORD}
    )
    response = api(keys[ApiKeyRole.ADMIN]).post(
        f"/api/v1/chargers/{charger.pk}/rotate-password/", {}, format="json"
    )
    generated = response.json()["password"]

    recorded = entries(tenant_a)
    assert [(e.action, e.object_type) for e in recorded] == [
        ("password", "charger_credentials"),
        ("password", "charger_credentials"),
    ]
    assert recorded[0].changes["password"] == {"before": "********", "after": "********"}
    stored = json.dumps([e.changes for e in recorded])
    assert SECRET_PASSWORD not in stored and generated not in stored


def test_the_onboarding_password_is_recorded_without_its_hash(api, keys, tenant_a):
    response = api(keys[ApiKeyRole.ADMIN]).post(
        "/api/v1/charger-settings/onboarding-password/", {}, format="json"
    )
    assert response.status_code in (200, 201)

    [entry] = entries(tenant_a)
    assert (entry.action, entry.object_type) == ("open", "onboarding")
    assert entry.changes["onboarding_password_hash"] == {"before": "", "after": "********"}
    assert entry.changes["accept_unknown_chargers"] == {"before": False, "after": True}


def test_an_api_key_created_and_revoked_is_recorded_without_its_secret(api, keys, tenant_a):
    created = api(keys[ApiKeyRole.ADMIN]).post(
        "/api/v1/api-keys/", {"name": "Reporting", "role": "read_only"}, format="json"
    )
    key_id = created.json()["id"]
    api(keys[ApiKeyRole.ADMIN]).post(f"/api/v1/api-keys/{key_id}/revoke/")

    create, revoke = entries(tenant_a)
    assert (create.action, create.object_type, create.object_id) == (
        "create",
        "api_key",
        str(key_id),
    )
    assert create.changes["secret_hash"]["after"] == "********"
    assert created.json()["secret"] not in json.dumps(create.changes)
    assert (revoke.action, revoke.object_id) == ("revoke", str(key_id))


def test_inviting_changing_and_removing_a_member_are_recorded(client_for, alice, bob, tenant_a):
    client = client_for(alice)
    client.post(page("member_create"), {"email": "dora@a.test", "role": Role.VIEWER})
    with scoping.scope(tenant_a):
        dora = Membership.objects.get(user__email="dora@a.test")
    client.post(page("member_edit", pk=dora.pk), {"role": Role.OPERATOR})
    client.post(page("member_remove", pk=dora.pk))

    recorded = entries(tenant_a)
    assert [(e.action, e.object_type, e.object_label) for e in recorded] == [
        ("invite", "member", "dora@a.test"),
        ("update", "member", "dora@a.test"),
        ("remove", "member", "dora@a.test"),
    ]
    assert recorded[1].changes == {"role": {"before": "viewer", "after": "operator"}}


@pytest.mark.django_db(transaction=True)
def test_a_command_sent_through_the_api_is_recorded_with_its_action(api, keys, tenant_a, charger):
    response = api(keys[ApiKeyRole.OPERATOR]).post(
        "/api/v1/commands/",
        {"charger": charger.pk, "action": "clear_cache"},
        format="json",
    )
    # The charger is offline: the command's outcome is known at once (201).
    assert response.status_code == 201

    [entry] = entries(tenant_a)
    assert (entry.action, entry.object_type, entry.actor_role) == ("send", "command", "operator")
    assert entry.changes["charger"]["after"] == "CP-AUDIT"
    assert entry.changes["action"]["after"] == entry.object_label.split()[0]


@shared_task(name="tests.cpms.audit.harden_charger")
def harden_charger(*, tenant_id, charger_id):
    charger_update(charger=Charger.objects.get(pk=charger_id), security_profile=3)


def test_a_task_acts_for_nobody_even_when_a_request_ran_it(tenant_a, charger, alice):
    person = audit_context.person(alice, role=Role.ADMIN, door="web")
    with audit_context.acting(person):
        # As an eager task runs: inside the context that queued it.
        harden_charger(tenant_id=tenant_a.pk, charger_id=charger.pk)

    assert entries(tenant_a) == []


def test_nothing_is_recorded_without_someone_acting(tenant_a, charger, depot):
    with scoping.scope(tenant_a):
        charger_update(charger=charger, site=depot)

    assert entries(tenant_a) == []


# --- Never editable, kept for a while -----------------------------------------------------


def test_an_entry_cannot_be_saved_again_or_deleted(tenant_a):
    with scoping.scope(tenant_a):
        entry = make_audit_entry()
        entry.object_label = "forged"
        with pytest.raises(ImmutableEntry):
            entry.save()
        with pytest.raises(ImmutableEntry):
            entry.delete()
        with pytest.raises(ImmutableEntry):
            AuditEntry.objects.filter(pk=entry.pk).update(object_label="forged")
        with pytest.raises(ImmutableEntry):
            AuditEntry.objects.filter(pk=entry.pk).delete()
        assert AuditEntry.objects.get().object_label == "CP-A"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_to_update_or_delete_an_entry_in_sql(tenant_a):
    with scoping.scope(tenant_a):
        entry = make_audit_entry()
    for statement in (
        "UPDATE audit_auditentry SET object_label = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    with scoping.scope(tenant_a):
        assert AuditEntry.objects.get().object_label == "CP-A"


def test_the_purge_removes_only_entries_older_than_the_retention(tenant_a, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    with scoping.scope(tenant_a):
        make_audit_entry(at=now - timedelta(days=31), object_id="old")
        make_audit_entry(at=now - timedelta(days=29), object_id="recent")
        assert audit_purge(now=now) == 1
        assert list(AuditEntry.objects.values_list("object_id", flat=True)) == ["recent"]


def test_the_daily_job_purges_every_tenant_and_is_in_the_beat_schedule(
    tenant_a, tenant_b, settings
):
    from cpms.audit.tasks import purge_all

    old = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    for tenant in (tenant_a, tenant_b):
        with scoping.scope(tenant):
            make_audit_entry(at=old)

    assert purge_all() == 2
    assert settings.CELERY_BEAT_SCHEDULE["purge-audit-log"]["task"] == "cpms.audit.tasks.purge_all"


def test_the_api_offers_no_way_to_change_an_entry(api, keys, world):
    client = api(keys[ApiKeyRole.ADMIN])
    entry = world["audit_entry"]
    assert client.delete(f"/api/v1/audit-log/{entry.pk}/").status_code == 405
    assert client.patch(f"/api/v1/audit-log/{entry.pk}/", {}, format="json").status_code == 405
    assert client.post("/api/v1/audit-log/", {}, format="json").status_code == 405


# --- Who may read it ----------------------------------------------------------------------


@pytest.fixture
def logged(tenant_a, client_for, alice, charger, depot):
    """One entry of alice's in tenant A."""
    client_for(alice).post(page("charger_edit", pk=charger.pk), {"site": depot.pk})
    client_for(alice).logout()
    return entries(tenant_a)[0]


def test_admins_browse_the_log_and_see_an_entrys_changes(client_for, alice, logged):
    client = client_for(alice)

    listing = client.get(page("audit_list"))
    detail = client.get(page("audit_detail", pk=logged.pk))

    assert f'data-entry="{logged.pk}"' in listing.content.decode()
    body = detail.content.decode()
    assert 'data-field="site"' in body and "alice@a.test" in body


def test_charlie_sees_nothing_of_tenant_a(client_for, api, keys, charlie, logged):
    client = client_for(charlie)
    assert client.get(page("audit_list")).status_code == 404
    assert client.get(page("audit_detail", pk=logged.pk)).status_code == 404
    assert client.get(page("audit_detail", slug="tenant-b", pk=logged.pk)).status_code == 404

    by_key = api(keys["charlie"])
    assert by_key.get("/api/v1/audit-log/").json()["results"] == []
    assert by_key.get(f"/api/v1/audit-log/{logged.pk}/").status_code == 404
    export = by_key.get("/api/v1/audit-log/export/?format=csv")
    assert len(list(csv.reader(io.StringIO(export.getvalue().decode())))) == 1


def test_viewers_and_operators_may_not_read_the_log(client_for, api, keys, bob, olga, logged):
    for member in (bob, olga):
        assert client_for(member).get(page("audit_list")).status_code == 403
        assert client_for(member).get(page("audit_detail", pk=logged.pk)).status_code == 403
    for role in (ApiKeyRole.READ_ONLY, ApiKeyRole.OPERATOR):
        assert api(keys[role]).get("/api/v1/audit-log/").status_code == 403


def test_reading_the_log_writes_nothing_to_it(client_for, alice, api, keys, tenant_a, logged):
    client_for(alice).get(page("audit_list"))
    api(keys[ApiKeyRole.ADMIN]).get("/api/v1/audit-log/")

    assert len(entries(tenant_a)) == 1


# --- Filters and export -------------------------------------------------------------------


def test_the_api_filters_by_action_object_and_actor(api, keys, tenant_a, logged):
    with scoping.scope(tenant_a):
        make_audit_entry(action="delete", object_type="site", actor_label="bob@a.test")
    client = api(keys[ApiKeyRole.ADMIN])

    def ids(query):
        return [row["id"] for row in client.get(f"/api/v1/audit-log/?{query}").json()["results"]]

    assert ids("action=update") == [logged.pk]
    assert ids("object_type=charger&object_id=" + logged.object_id) == [logged.pk]
    assert ids("actor=alice") == [logged.pk]
    assert ids("q=CP-AUDIT") == [logged.pk]
    assert len(ids("since=2000-01-01T00:00:00Z")) == 2
    assert ids("until=2000-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("action=erase", "action"), ("object_type=spaceship", "object_type"), ("since=soon", "since")],
)
def test_a_bad_filter_is_refused_naming_the_field(api, keys, client_for, alice, query, field):
    response = api(keys[ApiKeyRole.ADMIN]).get(f"/api/v1/audit-log/?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]

    export = client_for(alice).get(page("audit_export") + f"?{query}")
    assert export.status_code == 400
    assert export.content.decode().startswith(f"{field}:")

    listing = client_for(alice).get(page("audit_list") + f"?{query}")
    assert f'data-filter-error="{field}"' in listing.content.decode()


def test_the_export_carries_the_filters_and_neutralises_formulas(client_for, alice, tenant_a):
    with scoping.scope(tenant_a):
        make_audit_entry(object_label='=HYPERLINK("http://x")', action="create")
        make_audit_entry(action="delete")

    response = client_for(alice).get(page("audit_export") + "?action=create")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["entry_id", "at", "actor_kind", "actor"]
    assert len(rows) == 2
    assert rows[1][rows[0].index("object_label")] == '\'=HYPERLINK("http://x")'
    assert json.loads(rows[1][rows[0].index("changes")]) == {"site": {"after": 1, "before": None}}
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-tenant-a-')


def test_the_list_links_its_export_with_its_filters(client_for, alice, logged):
    body = client_for(alice).get(page("audit_list") + "?action=update").content.decode()
    assert page("audit_export") + "?action=update" in body


# --- The demo -------------------------------------------------------------------------------


def test_the_demo_leaves_its_admins_setup_in_the_log_once(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    with scoping.unscoped():
        recorded = list(AuditEntry.objects.all())
    assert recorded, "the demo's audit log is empty"
    assert {e.actor_label for e in recorded} == {"admin@demo.test"}
    assert {"tariff", "reservation", "config_template"} <= {e.object_type for e in recorded}
    assert len({e.at.date() for e in recorded}) == 1 and all(e.door == "command" for e in recorded)


def test_the_admin_shows_entries_but_changes_and_deletes_none(client, alice, tenant_a):
    with scoping.scope(tenant_a):
        entry = make_audit_entry()
    client.force_login(alice)

    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.get(change).status_code == 200
    client.post(change, {"object_label": "forged"})
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403

    with scoping.scope(tenant_a):
        assert AuditEntry.objects.get().object_label == "CP-A"
