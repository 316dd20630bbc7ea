"""The Django admin: platform staff see everything, tenant admins only their own rows."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from billing.models import ChargeDetailRecord
from billing.services import assignment_create, tariff_create
from chargers.alerts.models import Alert, AlertKind, AlertRule, Severity
from chargers.firmware.models import Campaign, FirmwareImage
from chargers.models import (
    Charger,
    ChargerBoot,
    ChargerEvent,
    ChargingSession,
    Command,
    ConnectionEvent,
    Connector,
    DeviceModelVariable,
    HandshakeRefusal,
    IdToken,
    OcppMessage,
    TransactionEventRecord,
)
from cpms.models import Membership, Site, Tenant
from cpms.tenancy import scoping
from cpms.tenancy.scoping import TenantOwned
from tests.chargers.factories import meter_sample, status_event
from tests.chargers.firmware.world import firmware_world
from tests.factories import make_audit_entry


def tenant_owned_admins():
    return sorted(
        (model for model in admin.site._registry if issubclass(model, TenantOwned)),
        key=lambda model: model._meta.label,
    )


@pytest.fixture
def a_rows(tenant_a, site_a, owner_a, alice, bob):
    """One row of tenant A for every tenant-owned model in the admin."""
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid="04A")
        charger_rows(tenant_a)
        rows = {model: model.objects.first() for model in tenant_owned_admins()}
    assert all(rows.values()), "a fixture row is missing for a model registered in the admin"
    return rows


def charger_rows(tenant):
    """One row of every charger model, as a charger's life would leave them."""
    now = timezone.now()
    charger = Charger.objects.create(identity="CP-A")
    ChargerBoot.objects.create(charger=charger, at=now, answered="Accepted")
    Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Available")
    status_event(charger, at=now).save()
    session = ChargingSession.objects.create(
        charger=charger, evse_id=1, connector_id=1, transaction_id="1", started_at=now
    )
    meter_sample(charger, now, 1, session=session).save()
    ChargerEvent.objects.create(charger=charger, kind="data_transfer", at=now)
    Command.objects.create(charger=charger, action="Reset", payload={"type": "Soft"})
    OcppMessage.objects.create(charger=charger, at=now, incoming=True, message_type=2, body="[]")
    ConnectionEvent.objects.create(charger=charger, connected_at=now, ocpp_version="1.6")
    HandshakeRefusal(tenant=tenant, at=now, identity="X", reason="wrong_password").save()
    TransactionEventRecord.objects.create(
        session=session,
        seq_no=0,
        event_type="Started",
        trigger_reason="Authorized",
        timestamp=now,
        received_at=now,
    )
    DeviceModelVariable.objects.create(
        charger=charger, component="OCPPCommCtrlr", variable="HeartbeatInterval", value="300"
    )
    Alert.objects.create(
        kind=AlertKind.CHARGER_OFFLINE,
        severity=Severity.WARNING,
        subject=f"charger:{charger.pk}",
        charger=charger,
        title="CP-A is offline",
        opened_at=now,
    )
    AlertRule.objects.create(kind=AlertKind.CONNECTOR_FAULTED, severity=Severity.CRITICAL)
    make_audit_entry(object_id=str(charger.pk))
    tariff = tariff_create(
        name="Tariff A",
        currency="EUR",
        elements=[{"price_components": [{"type": "ENERGY", "price": 0.39}]}],
    )
    assignment_create(tariff=tariff)
    firmware_world(charger, Site.objects.create(name="Firmware site"), with_file=False)
    ChargeDetailRecord.objects.create(
        session=session, issued_at=now, charger=charger, evse_id=1, connector_id=1,
        start_date_time=now, end_date_time=now, tariff=tariff,
        tariff_version=tariff.versions.get(), currency="EUR", total_energy=0, total_time=0,
        total_parking_time=0, total_excl_vat_minor=0, total_incl_vat_minor=0,
        charging_periods=[], lines=[], vat_groups=[], fingerprint="0" * 64,
    )  # fmt: skip


def admin_url(obj, view):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_charlie_gets_404_on_every_tenant_a_object_in_the_admin(client, a_rows, charlie, view):
    client.force_login(charlie)
    for obj in a_rows.values():
        assert client.get(admin_url(obj, view)).status_code == 404, obj._meta.label


def test_charlies_admin_lists_show_none_of_tenant_a(client, a_rows, charlie, tenant_b):
    with scoping.scope(tenant_b):
        Site.objects.create(name="Depot B")
    client.force_login(charlie)
    page = client.get(reverse("admin:cpms_site_changelist"))
    assert page.status_code == 200
    assert b"Depot B" in page.content and b"Mall A" not in page.content


def test_charlie_cannot_see_tenant_a_itself(client, a_rows, charlie, tenant_a):
    client.force_login(charlie)
    assert client.get(reverse("admin:cpms_tenant_change", args=[tenant_a.pk])).status_code == 404
    assert client.get(reverse("admin:cpms_user_changelist")).status_code == 403


def test_charlie_cannot_delete_tenant_a_rows_through_the_admin(client, a_rows, charlie, tenant_a):
    client.force_login(charlie)
    for obj in a_rows.values():
        client.post(admin_url(obj, "delete"), {"post": "yes"})
    with scoping.unscoped():
        for model, obj in a_rows.items():
            assert model.objects.filter(pk=obj.pk).exists()


def test_alice_sees_her_tenants_rows_in_the_admin(client, a_rows, alice):
    client.force_login(alice)
    for obj in a_rows.values():
        assert client.get(admin_url(obj, "change")).status_code == 200, obj._meta.label


def test_alice_adds_a_site_that_lands_in_her_tenant(client, a_rows, alice, tenant_a):
    client.force_login(alice)
    response = client.post(
        reverse("admin:cpms_site_add"), {"name": "Admin Site", "timezone": "UTC"}
    )
    assert response.status_code == 302
    with scoping.unscoped():
        assert Site.objects.get(name="Admin Site").tenant == tenant_a


def test_bob_who_is_not_staff_is_sent_to_the_admin_login(client, a_rows, bob):
    client.force_login(bob)
    response = client.get(reverse("admin:cpms_site_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_platform_staff_see_every_tenant(client, a_rows, staff, charlie, tenant_b):
    with scoping.scope(tenant_b):
        Site.objects.create(name="Depot B")
    client.force_login(staff)
    page = client.get(reverse("admin:cpms_site_changelist"))
    assert b"Depot B" in page.content and b"Mall A" in page.content
    assert client.get(reverse("admin:cpms_tenant_changelist")).status_code == 200
    with scoping.unscoped():
        assert Tenant.objects.count() == 2 and Membership.objects.count() == 3


def test_refusals_for_unknown_tenants_are_for_platform_staff_only(client, alice, staff):
    HandshakeRefusal(
        tenant=None,
        tenant_slug="nope",
        at=timezone.now(),
        identity="GHOST",
        reason="unknown_tenant",
    ).save()
    url = reverse("admin:chargers_handshakerefusal_changelist")
    client.force_login(alice)
    assert b"GHOST" not in client.get(url).content
    client.force_login(staff)
    assert b"GHOST" in client.get(url).content


# --- Alerts ---------------------------------------------------------------------------------------


def test_charlies_alert_list_shows_none_of_tenant_a(client, a_rows, charlie):
    client.force_login(charlie)
    page = client.get(reverse("admin:alerts_alert_changelist"))
    assert page.status_code == 200 and b"CP-A is offline" not in page.content


def test_alice_acknowledges_an_alert_in_the_admin(client, a_rows, alice, tenant_a):
    alert = a_rows[Alert]
    client.force_login(alice)
    response = client.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "acknowledge", "_selected_action": [alert.pk]},
    )
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        alert.refresh_from_db()
    assert alert.acknowledged_by == alice and alert.acknowledged_at is not None


def test_charlie_cannot_acknowledge_a_tenant_a_alert(client, a_rows, charlie, tenant_a):
    alert = a_rows[Alert]
    client.force_login(charlie)
    client.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "acknowledge", "_selected_action": [alert.pk]},
    )
    with scoping.scope(tenant_a):
        alert.refresh_from_db()
    assert alert.acknowledged_at is None


def rule_form(**fields):
    return {
        "kind": AlertKind.SESSION_STUCK,
        "enabled": "on",
        "severity": Severity.WARNING,
        "threshold_minutes": "45",
        "never_stopped_hours": "24",
        **fields,
    }


def test_alice_adds_a_rule_that_lands_in_her_tenant(client, a_rows, alice, bob, tenant_a):
    with scoping.scope(tenant_a):
        bobs = Membership.objects.get(user=bob)
    client.force_login(alice)
    response = client.post(reverse("admin:alerts_alertrule_add"), rule_form(notify=[bobs.pk]))
    assert response.status_code == 302
    with scoping.unscoped():
        rule = AlertRule.objects.get(kind=AlertKind.SESSION_STUCK)
        assert rule.tenant == tenant_a and list(rule.notify.all()) == [bobs]


def test_a_second_rule_for_the_same_kind_is_refused_naming_the_kind(client, a_rows, alice):
    client.force_login(alice)
    response = client.post(
        reverse("admin:alerts_alertrule_add"), rule_form(kind=AlertKind.CONNECTOR_FAULTED)
    )
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
    with scoping.unscoped():
        assert AlertRule.objects.filter(kind=AlertKind.CONNECTOR_FAULTED).count() == 1


def test_alices_notify_choices_are_her_tenants_staff(client, a_rows, alice, paula, charlie):
    client.force_login(alice)
    form = client.get(reverse("admin:alerts_alertrule_add")).context["adminform"].form
    emails = {m.user.email for m in form.fields["notify"].queryset}
    assert emails == {"alice@a.test", "bob@a.test"}


def test_staff_cannot_notify_another_tenants_member(client, a_rows, staff, charlie, tenant_a):
    with scoping.unscoped():
        charlies = Membership.objects.get(user=charlie)
    client.force_login(staff)
    response = client.post(
        reverse("admin:alerts_alertrule_add"),
        rule_form(tenant=tenant_a.pk, notify=[charlies.pk]),
    )
    assert response.status_code == 200
    assert "notify" in response.context["adminform"].form.errors
    with scoping.unscoped():
        assert not AlertRule.objects.filter(kind=AlertKind.SESSION_STUCK).exists()


def test_firmware_is_read_mostly_in_the_admin(client, a_rows, alice, tenant_a):
    client.force_login(alice)
    with scoping.scope(tenant_a):
        image = FirmwareImage.objects.get(version="2.0.0")
        campaign = Campaign.objects.get(name="Rollout A")
    assert client.get(reverse("admin:firmware_campaign_add")).status_code == 403
    assert client.get(admin_url(campaign, "delete")).status_code == 403
    assert client.post(admin_url(campaign, "change"), {"name": "Renamed"}).status_code == 403

    form = client.get(admin_url(image, "change")).content.decode()
    assert 'name="notes"' in form and 'name="version"' not in form
    client.post(admin_url(image, "change"), {"notes": "Fixes the meter drift."})
    with scoping.scope(tenant_a):
        image.refresh_from_db()
    assert image.notes == "Fixes the meter drift." and image.version == "2.0.0"
