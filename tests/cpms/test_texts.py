"""Texts the server stores (alert titles, stop reasons, load-plan reasons) are shown in the
reader's language: on pages, in emails, in CSV exports; the API keeps its English fields and
adds the stable code with its parameters."""

import csv
import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from chargers.alerts import rules
from chargers.alerts import texts as alert_texts
from chargers.alerts.models import Alert, AlertKind, AlertRule
from chargers.alerts.tasks import send_notification
from chargers.models import Charger, ChargingSession, SessionState
from chargers.smart_charging.allocation import Connector, Node, Problem, Session, allocate
from chargers.texts import stop_reason_shown
from cpms.catalogs import compile_catalogs
from cpms.models import ApiKeyRole, Membership, User
from cpms.tenancy import scoping
from cpms.texts import columns, english, localized, message
from tests.chargers.factories import make_fleet

OFFLINE_DE = "CP-A1 ist offline"


@pytest.fixture(autouse=True)
def compiled():
    compile_catalogs()


@pytest.fixture
def offline(tenant_a, site_a):
    """The alert the rules open for a charger silent for an hour (the fleet's own alert gone)."""
    with scoping.scope(tenant_a):
        fleet = make_fleet(site_a)
        fleet["alert"].delete()
        Charger.objects.update(is_online=False, last_seen=timezone.now() - timedelta(hours=1))
        rules.evaluate_tenant()
        return Alert.objects.get()


def german(user):
    User.objects.filter(pk=user.pk).update(language="de")


# --- the texts ---------------------------------------------------------------------------------


def test_a_text_is_stored_as_its_code_and_params_and_its_english():
    text = alert_texts.REBOOTS(charger="CP-1", count=3, minutes=60)

    assert text == {
        "code": "alert.repeated_reboots",
        "params": {"charger": "CP-1", "count": 3, "minutes": 60},
    }
    assert english(text) == "CP-1 rebooted 3 times in 60 min"
    assert columns(text) == ("CP-1 rebooted 3 times in 60 min", text)
    assert columns("the charger's own words") == ("the charger's own words", None)


def test_a_text_renders_its_parts_numbers_and_dates_in_the_readers_language():
    title = alert_texts.CERTIFICATE_EXPIRING(
        charger="CP-1", date=timezone.datetime(2027, 1, 31).date()
    )
    reason = allocate(
        Problem(
            [Node("grid", "Grid", 100.0), Node("b", "circuit B", 63.0, parent="grid")],
            [Connector(f"c{i}", "b") for i in range(6)],
            [Session("c0", session_id=0, priority=1, priority_label="fleet")]
            + [Session(f"c{i}", session_id=i) for i in range(1, 6)],
        )
    ).by_connector()["c0"]

    with translation.override("de"):
        assert localized(title) == "Das Zertifikat von CP-1 läuft am 31.01.2027 ab"
        assert localized(reason.reason_text, reason.reason) == (
            "auf 10,5 A begrenzt: circuit B mit 63 A geteilt von 6 Ladevorgängen; Priorität fleet"
        )
    assert reason.reason == (
        "limited to 10.5 A: circuit B at 63 A shared by 6 sessions; priority fleet"
    )


def test_a_row_without_a_code_shows_its_stored_text():
    with translation.override("de"):
        assert localized(None, "written before codes") == "written before codes"
        assert localized({"code": "no.such.code", "params": {}}, "stored") == "stored"


def test_a_code_cannot_name_two_messages():
    with pytest.raises(ValueError, match="alert.charger_offline"):
        message("alert.charger_offline", "something else")


def test_a_stop_reason_the_server_wrote_is_in_words_and_a_chargers_is_as_sent():
    with translation.override("de"):
        assert stop_reason_shown("No stop after 24 h") == "Kein Stopp nach 24 h"
        assert stop_reason_shown("EVDisconnected") == "EVDisconnected"
        assert stop_reason_shown("") == ""


# --- where people read them --------------------------------------------------------------------


def test_a_german_operator_reads_the_alert_in_german(client, tenant_a, offline, olga):
    german(olga)
    client.force_login(olga)

    listed = client.get(reverse("alert_list", kwargs={"tenant_slug": "tenant-a"}))
    detail = client.get(
        reverse("alert_detail", kwargs={"tenant_slug": "tenant-a", "pk": offline.pk})
    )

    assert OFFLINE_DE in listed.content.decode()
    assert OFFLINE_DE in detail.content.decode()
    assert "Innerhalb der Heartbeat-Frist kam keine Nachricht an" in detail.content.decode()
    assert "is offline" not in detail.content.decode()


def test_an_alert_email_goes_out_in_each_recipients_language(tenant_a, offline, alice, olga):
    german(olga)
    with scoping.scope(tenant_a):
        rule = AlertRule.objects.create(kind=AlertKind.CHARGER_OFFLINE, severity="critical")
        rule.notify.set(Membership.objects.filter(user__in=[alice, olga]))

    send_notification(tenant_id=tenant_a.pk, alert_id=offline.pk)

    by_reader = {message.to[0]: message for message in mail.outbox}
    assert by_reader["olga@a.test"].subject == f"[Tenant A] Warnung: {OFFLINE_DE}"
    assert by_reader["olga@a.test"].body.startswith(f"{OFFLINE_DE}\n\nInnerhalb der")
    assert by_reader["alice@a.test"].subject == "[Tenant A] Warning: CP-A1 is offline"


def test_the_alerts_csv_is_in_the_requesters_language(client, tenant_a, offline, bob):
    german(bob)
    client.force_login(bob)

    response = client.get(reverse("alert_export", kwargs={"tenant_slug": "tenant-a"}))

    text = b"".join(response.streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["title"] == OFFLINE_DE


def test_a_german_reader_sees_the_servers_stop_reason_in_german(client, tenant_a, site_a, bob):
    with scoping.scope(tenant_a):
        session = make_fleet(site_a)["session"]
        ChargingSession.objects.filter(pk=session.pk).update(
            state=SessionState.COMPLETED,
            stopped_at=timezone.now(),
            stop_reason="No stop after 24 h",
        )
    german(bob)
    client.force_login(bob)

    page = client.get(
        reverse("session_detail", kwargs={"tenant_slug": "tenant-a", "pk": session.pk})
    )

    assert "Kein Stopp nach 24 h" in page.content.decode()


# --- the API -----------------------------------------------------------------------------------


def test_the_api_keeps_the_english_and_adds_the_code_and_params(api, keys, offline):
    client = api(keys[ApiKeyRole.READ_ONLY])

    answer = client.get(f"/api/v1/alerts/{offline.pk}/", HTTP_ACCEPT_LANGUAGE="de").json()

    assert answer["title"] == "CP-A1 is offline"
    assert answer["title_text"] == {
        "code": "alert.charger_offline",
        "params": {"charger": "CP-A1"},
    }
    assert answer["detail_text"] == {"code": "alert.charger_offline.detail", "params": {}}


def test_an_alert_written_before_codes_has_no_text_in_the_api(api, keys, tenant_a, offline):
    with scoping.scope(tenant_a):
        Alert.objects.filter(pk=offline.pk).update(title_text=None, detail_text=None)
    client = api(keys[ApiKeyRole.READ_ONLY])

    answer = client.get(f"/api/v1/alerts/{offline.pk}/").json()

    assert answer["title"] == "CP-A1 is offline" and answer["title_text"] is None


def test_the_migration_reads_old_alert_sentences_back_into_texts(tenant_a, offline):
    migration = importlib.import_module("chargers.alerts.migrations.0003_alert_texts")
    with scoping.scope(tenant_a):
        Alert.objects.filter(pk=offline.pk).update(title_text=None, detail_text=None)
        unknown = Alert.objects.create(
            kind=AlertKind.REPEATED_REBOOTS,
            severity="warning",
            subject="x",
            title="odd words",
            opened_at=timezone.now(),
        )

    migration.read_back(django_apps, None)

    with scoping.scope(tenant_a):
        offline.refresh_from_db()
        unknown.refresh_from_db()
    assert offline.title_text == alert_texts.OFFLINE(charger="CP-A1")
    assert offline.detail_text == alert_texts.OFFLINE_DETAIL()
    assert unknown.title_text is None and unknown.shown_title == "odd words"
