"""Alert rules: each condition opens one alert, which resolves itself when it clears."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from chargers.alerts import rules
from chargers.alerts.models import Alert, AlertKind, AlertRule
from chargers.alerts.services import alert_acknowledge, alert_open
from chargers.alerts.tasks import evaluate_all, evaluate_event, send_notification
from chargers.events import (
    ChargerBooted,
    ChargerEventRecorded,
    ChargerOffline,
    ChargerOnline,
    ConnectorStatusReported,
    HandshakeRefused,
    SessionStopped,
)
from chargers.models import Charger, ChargerBoot, Connector, RegistrationStatus
from cpms.celery import app
from cpms.events import publish
from cpms.models import Membership
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet, status_event


@pytest.fixture
def fleet(tenant_a, site_a):
    with scoping.scope(tenant_a):
        rows = make_fleet(site_a)
        rows["alert"].delete()
        return rows


def open_alerts(tenant, kind):
    with scoping.scope(tenant):
        return list(Alert.objects.filter(kind=kind, resolved_at__isnull=True))


def gone(charger, for_=timedelta(hours=1)):
    Charger.objects.filter(pk=charger.pk).update(is_online=False, last_seen=timezone.now() - for_)


@pytest.fixture
def offline_alert(tenant_a, fleet):
    """The alert the fleet's charger opens by an hour's silence, under the default rule."""
    with scoping.scope(tenant_a):
        gone(fleet["charger"])
        rules.evaluate_tenant()
        return Alert.objects.get()


def status(charger, status, error_code=""):
    return ConnectorStatusReported.of(status_event(charger, status, error_code=error_code))


def boot(charger, status=RegistrationStatus.ACCEPTED, previous_boot_at=None):
    return ChargerBooted(
        tenant_id=charger.tenant_id,
        charger_id=charger.pk,
        identity=charger.identity,
        status=status,
        changes={},
        firmware_version="",
        previous_boot_at=previous_boot_at,
    )


def test_it_opens_an_offline_alert_once_for_a_silent_charger(tenant_a, fleet):
    with scoping.scope(tenant_a):
        gone(fleet["charger"])
        rules.on_event(ChargerOffline.of(fleet["charger"]))
        rules.on_event(ChargerOffline.of(fleet["charger"]))
        rules.evaluate_tenant()
    assert len(open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE)) == 1


def test_a_charger_that_just_dropped_its_socket_opens_an_alert_only_if_it_stays_away(
    tenant_a, fleet
):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        gone(charger, for_=timedelta(seconds=5))
        rules.on_event(ChargerOffline.of(charger))
        rules.evaluate_tenant()
        assert open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE) == []
        gone(charger, for_=rules.RECONNECT_GRACE + timedelta(seconds=1))
        rules.evaluate_tenant()
    assert len(open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE)) == 1


def test_it_resolves_the_offline_alert_when_the_charger_returns(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        gone(charger)
        rules.on_event(ChargerOffline.of(charger))
        Charger.objects.filter(pk=charger.pk).update(is_online=True)
        rules.on_event(ChargerOnline.of(charger))
        alert = Alert.objects.get(kind=AlertKind.CHARGER_OFFLINE)
    assert alert.resolved_at is not None


def test_beat_resolves_an_offline_alert_whose_online_event_was_lost(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        gone(charger)
    evaluate_all()
    assert len(open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE)) == 1
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(is_online=True)
    evaluate_all()
    assert open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE) == []


def test_a_new_outage_after_a_resolved_one_opens_a_new_alert(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        for online in (False, True, False):
            Charger.objects.filter(pk=charger.pk).update(
                is_online=online, last_seen=timezone.now() - timedelta(hours=1)
            )
            rules.evaluate_tenant()
        assert Alert.objects.filter(kind=AlertKind.CHARGER_OFFLINE).count() == 2
    assert len(open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE)) == 1


def test_it_opens_a_fault_alert_with_the_error_code_and_resolves_it(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        rules.on_event(status(charger, "Faulted", error_code="GroundFailure"))
        (alert,) = Alert.objects.filter(kind=AlertKind.CONNECTOR_FAULTED)
        assert "GroundFailure" in alert.title and alert.severity == "critical"
        rules.on_event(status(charger, "Available"))
        alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_the_task_rebuilds_the_event_it_was_queued_with(tenant_a, fleet):
    # What the broker carries: the event's name and its JSON form.
    event = status(fleet["charger"], "Faulted", error_code="GroundFailure")
    message = json.loads(json.dumps({"name": event.name, "data": event.data()}))
    with scoping.scope(tenant_a):
        evaluate_event(tenant_id=tenant_a.pk, **message)
    (alert,) = open_alerts(tenant_a, AlertKind.CONNECTOR_FAULTED)
    assert "GroundFailure" in alert.title


def test_beat_opens_fault_alerts_from_connector_state(tenant_a, fleet):
    with scoping.scope(tenant_a):
        Connector.objects.update(status="Faulted", error_code="HighTemperature")
    evaluate_all()
    (alert,) = open_alerts(tenant_a, AlertKind.CONNECTOR_FAULTED)
    assert "HighTemperature" in alert.title


def test_it_opens_an_alert_for_a_rejected_boot_and_resolves_on_acceptance(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        rules.on_event(boot(charger, RegistrationStatus.REJECTED))
        assert Alert.objects.filter(kind=AlertKind.BOOT_REJECTED, resolved_at=None).count() == 1
        rules.on_event(boot(charger, RegistrationStatus.ACCEPTED))
        assert Alert.objects.filter(kind=AlertKind.BOOT_REJECTED, resolved_at=None).count() == 0


def test_three_boots_within_the_window_open_a_reboot_alert(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        for _ in range(3):
            ChargerBoot.objects.create(
                charger=charger, at=timezone.now(), answered="Accepted", reported={}
            )
            rules.on_event(boot(charger))
        assert Alert.objects.filter(kind=AlertKind.REPEATED_REBOOTS).count() == 1
        ChargerBoot.objects.update(at=timezone.now() - timedelta(hours=2))
        rules.evaluate_tenant()
        assert Alert.objects.get(kind=AlertKind.REPEATED_REBOOTS).resolved_at is not None


def test_it_opens_an_alert_for_a_critical_security_event_only(tenant_a, fleet):
    charger = fleet["charger"]
    with scoping.scope(tenant_a):
        for event_id, critical in [(1, False), (2, True)]:
            rules.on_event(
                ChargerEventRecorded(
                    tenant_id=tenant_a.pk,
                    charger_id=charger.pk,
                    event_id=event_id,
                    kind="security_event",
                    summary="FirmwareTampered",
                    critical=critical,
                    at=timezone.now(),
                )
            )
        (alert,) = Alert.objects.filter(kind=AlertKind.SECURITY_EVENT)
    assert "FirmwareTampered" in alert.title


def test_refused_handshakes_alert_and_a_good_connection_resolves_them(tenant_a, fleet):
    refused = HandshakeRefused(
        tenant_id=tenant_a.pk,
        identity="CP-A1",
        reason="bad_password",
        remote_addr="10.0.0.9",
        at=timezone.now(),
    )
    with scoping.scope(tenant_a):
        rules.on_event(refused)
        rules.on_event(refused)
        assert Alert.objects.filter(kind=AlertKind.HANDSHAKE_REFUSED).count() == 1
        rules.on_event(ChargerOnline.of(fleet["charger"]))
        assert Alert.objects.get(kind=AlertKind.HANDSHAKE_REFUSED).resolved_at is not None


def test_a_session_without_meter_values_is_stuck_until_it_stops(tenant_a, fleet):
    session = fleet["session"]
    with scoping.scope(tenant_a):
        rules.evaluate_tenant()
        assert not Alert.objects.filter(kind=AlertKind.SESSION_STUCK).exists()
        # Every sample two hours older: the meter went quiet.
        session.samples.update(timestamp=F("timestamp") - timedelta(hours=2))
        type(session).objects.filter(pk=session.pk).update(
            started_at=timezone.now() - timedelta(hours=3)
        )
        rules.evaluate_tenant()
        (alert,) = Alert.objects.filter(kind=AlertKind.SESSION_STUCK)
        assert alert.session_id == session.pk
        type(session).objects.filter(pk=session.pk).update(state="completed")
        rules.on_event(SessionStopped.of(session))
        alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_switched_off_rule_opens_nothing(tenant_a, fleet):
    with scoping.scope(tenant_a):
        AlertRule.objects.create(kind=AlertKind.CHARGER_OFFLINE, enabled=False, severity="info")
        Charger.objects.update(is_online=False, last_seen=timezone.now() - timedelta(hours=1))
        rules.evaluate_tenant()
        assert not Alert.objects.exists()


def test_acknowledging_records_who_when_and_the_note(tenant_a, offline_alert, olga):
    alert = offline_alert
    with scoping.scope(tenant_a):
        alert_acknowledge(alert=alert, user=olga, note="Technician on the way")
        alert.refresh_from_db()
    assert alert.acknowledged_by == olga and alert.acknowledged_at is not None
    assert alert.acknowledgement_note == "Technician on the way"
    assert alert.resolved_at is None  # acknowledged is not fixed


def test_the_listener_queues_an_evaluation_that_opens_the_alert(
    tenant_a, fleet, django_capture_on_commit_callbacks
):
    app.conf.task_always_eager = True
    try:
        with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
            Charger.objects.update(is_online=False, last_seen=timezone.now() - timedelta(hours=1))
            publish(ChargerOffline.of(fleet["charger"]))
    finally:
        app.conf.task_always_eager = False
    assert len(open_alerts(tenant_a, AlertKind.CHARGER_OFFLINE)) == 1


def test_it_emails_the_members_the_rule_names(tenant_a, fleet, alice, olga, bob):
    with scoping.scope(tenant_a):
        rule = AlertRule.objects.create(kind=AlertKind.CHARGER_OFFLINE, severity="critical")
        rule.notify.set(Membership.objects.filter(user__in=[alice, olga]))
        Charger.objects.update(is_online=False, last_seen=timezone.now() - timedelta(hours=1))
        rules.evaluate_tenant()
        alert = Alert.objects.get()
    send_notification(tenant_id=tenant_a.pk, alert_id=alert.pk)
    (message,) = mail.outbox
    assert sorted(message.to) == ["alice@a.test", "olga@a.test"]
    assert "Critical" in message.subject and "CP-A1" in message.subject


# --- Pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who,status,acknowledged", [("olga", 302, True), ("bob", 403, False)])
def test_an_operator_acknowledges_an_alert_from_its_page_and_a_viewer_cannot(
    client, tenant_a, offline_alert, request, who, status, acknowledged
):
    alert, user = offline_alert, request.getfixturevalue(who)
    client.force_login(user)
    page = reverse("alert_detail", kwargs={"tenant_slug": "tenant-a", "pk": alert.pk})
    assert client.post(page, {"note": "on it"}).status_code == status
    with scoping.scope(tenant_a):
        alert.refresh_from_db()
    assert alert.acknowledged_by == (user if acknowledged else None)


def test_charlie_gets_404_for_a_tenant_a_alert_under_his_own_slug(
    client, tenant_a, offline_alert, charlie
):
    alert = offline_alert
    client.force_login(charlie)
    page = reverse("alert_detail", kwargs={"tenant_slug": "tenant-b", "pk": alert.pk})
    assert client.get(page).status_code == 404
    assert client.post(page, {"note": "mine now"}).status_code == 404
    with scoping.scope(tenant_a):
        alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_the_navigation_badge_counts_open_alerts(client, tenant_a, offline_alert, bob):
    client.force_login(bob)
    page = client.get(reverse("charger_list", kwargs={"tenant_slug": "tenant-a"}))
    assert b'data-alert-count title="open alerts">1</span>' in page.content


def test_an_admin_saves_rules_with_recipients(client, tenant_a, alice, olga):
    client.force_login(alice)
    with scoping.scope(tenant_a):
        olga_membership = Membership.objects.get(user=olga)
    data = {}
    for kind in AlertKind.values:
        data.update(
            {
                f"{kind}-enabled": "on",
                f"{kind}-severity": "warning",
                f"{kind}-never_stopped_hours": "24",
            }
        )
    data["session_stuck-threshold_minutes"] = "45"
    data["charger_offline-notify"] = [olga_membership.pk]
    response = client.post(reverse("alert_rules", kwargs={"tenant_slug": "tenant-a"}), data)
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        assert AlertRule.objects.get(kind="session_stuck").threshold_minutes == 45
        assert list(AlertRule.objects.get(kind="charger_offline").notify.all()) == [olga_membership]


def test_a_bad_rule_value_names_the_field_and_saves_nothing(client, tenant_a, alice):
    client.force_login(alice)
    data = {f"{k}-severity": "warning" for k in AlertKind.values}
    data.update({f"{k}-never_stopped_hours": "24" for k in AlertKind.values})
    data["session_stuck-threshold_minutes"] = "-5"
    response = client.post(reverse("alert_rules", kwargs={"tenant_slug": "tenant-a"}), data)
    assert response.status_code == 200
    assert b"greater than or equal to 1" in response.content
    with scoping.scope(tenant_a):
        assert not AlertRule.objects.exists()


def stopped(tenant, charger):
    return SessionStopped(
        tenant_id=tenant.pk,
        session_id=1,
        charger_id=charger.pk,
        transaction_id="1",
        evse_id=1,
        id_tag="",
        state="completed",
        energy_wh=Decimal(1),
        power_w=None,
        started_at=timezone.now(),
        stopped_at=timezone.now(),
        stop_reason="Local",
    )


def test_only_events_that_can_open_or_resolve_an_alert_are_evaluated(tenant_a, fleet):
    from chargers.alerts.listeners import worth_evaluating

    charger = fleet["charger"]
    charger_id = charger.pk

    def recorded(critical):
        return ChargerEventRecorded(
            tenant_id=tenant_a.pk,
            charger_id=charger_id,
            event_id=1,
            kind="security_event",
            summary="",
            critical=critical,
            at=timezone.now(),
        )

    # Events are published in their tenant's scope (every door opens one).
    with scoping.scope(tenant_a):
        assert worth_evaluating(status(charger, "Faulted"))
        assert not worth_evaluating(status(charger, "Charging"))
        assert not worth_evaluating(ChargerOnline.of(charger))
        assert not worth_evaluating(recorded(critical=False))
        assert worth_evaluating(recorded(critical=True))
        alert_open(
            kind=AlertKind.CHARGER_OFFLINE,
            subject=rules.charger_subject(charger_id),
            title="offline",
            charger_id=charger_id,
        )
        # With an alert open, the charger's next events may resolve it.
        assert worth_evaluating(ChargerOnline.of(charger))
        assert worth_evaluating(status(charger, "Available"))
        # A session's end resolves only its own stuck-session alert.
        assert not worth_evaluating(stopped(tenant_a, charger))
        alert_open(
            kind=AlertKind.SESSION_STUCK,
            subject=rules.session_subject(1),
            title="stuck",
            charger_id=charger_id,
        )
        assert worth_evaluating(stopped(tenant_a, charger))
    # Outside its scope an event's alerts are not looked up: the task decides.
    assert worth_evaluating(status(charger, "Charging"))


def test_an_accepted_boot_is_evaluated_only_when_it_can_change_an_alert(tenant_a, fleet):
    from chargers.alerts.listeners import worth_evaluating

    charger = fleet["charger"]

    def another_boot(status=RegistrationStatus.ACCEPTED):
        # Not the charger's first: it booted a minute before.
        return boot(charger, status, previous_boot_at=timezone.now() - timedelta(minutes=1))

    def booted():
        ChargerBoot.objects.create(
            charger=charger, at=timezone.now(), answered="Accepted", reported={}
        )

    with scoping.scope(tenant_a):
        assert worth_evaluating(another_boot(RegistrationStatus.REJECTED))
        booted()
        # A fleet booting after a restart: one boot each, no task each.
        assert not worth_evaluating(another_boot())
        booted()
        booted()
        # The third boot within the window completes a reboot loop.
        assert worth_evaluating(another_boot())
        rules.on_event(another_boot())
        # Open already: the loop's further boots change nothing.
        booted()
        assert not worth_evaluating(another_boot())
        alert_open(
            kind=AlertKind.BOOT_REJECTED,
            subject=rules.charger_subject(charger.pk),
            title="rejected",
            charger_id=charger.pk,
        )
        assert worth_evaluating(another_boot())  # it resolves the rejected-boot alert


def test_the_alert_lists_pages_keep_every_filter(client, tenant_a, fleet, bob):
    from chargers.alerts.models import Severity

    with scoping.scope(tenant_a):
        Alert.objects.bulk_create(
            Alert(
                kind=AlertKind.SESSION_STUCK,
                severity=Severity.WARNING,
                subject=f"session:{i}",
                title=f"Stuck {i}",
                opened_at=timezone.now(),
            )
            for i in range(60)
        )
    client.force_login(bob)
    url = reverse("alert_list", kwargs={"tenant_slug": "tenant-a"})
    body = client.get(url, {"show": "all", "kind": "session_stuck", "severity": "warning"})
    assert b"?show=all&amp;kind=session_stuck&amp;severity=warning&amp;page=2" in body.content
