"""A German operator reads the fleet and session pages in German with German figures and dates,
live updates included, while what scripts read (chart data) keeps the '.' decimal point. Olga
is tenant A's operator; tenant A works in Europe/Berlin."""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from chargers.alerts.models import AlertRule
from chargers.alerts.notify import send
from chargers.models import Charger, ChargingSession
from cpms.catalogs import compile_catalogs
from cpms.models import Membership, User
from cpms.tenancy import scoping
from tests.chargers.factories import a_day_begun_an_hour_ago

# Noon UTC in January is 13:00 CET in Berlin.
NOON_UTC = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def compiled():
    compile_catalogs()


@pytest.fixture
def big_session(tenant_a, fleet):
    """The fleet's session with four digits of kWh, started and last seen at a known time."""
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=fleet["session"].pk).update(
            energy_wh=Decimal("1234567"), started_at=NOON_UTC
        )
        Charger.objects.filter(pk=fleet["charger"].pk).update(last_seen=NOON_UTC)
    return fleet["session"]


def speaks(user, language):
    User.objects.filter(pk=user.pk).update(language=language)


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_a_german_operator_sees_the_sessions_list_in_german_figures_and_dates(
    client, big_session, olga
):
    speaks(olga, "de")
    client.force_login(olga)

    body = client.get(page("session_list")).content.decode()

    assert "Ladevorgänge" in body and "Gestartet (Europe/Berlin)" in body
    assert "1.234,57 kWh" in body
    assert "15.01.2025 13:00:00 CET" in body


def test_an_english_operator_sees_the_same_list_in_english_figures_and_dates(
    client, big_session, olga
):
    client.force_login(olga)

    body = client.get(page("session_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "1,234.57 kWh" in body and "2025-01-15 13:00:00 CET" in body


def test_a_german_operator_sees_the_charger_list_in_german(client, big_session, olga):
    speaks(olga, "de")
    client.force_login(olga)

    body = client.get(page("charger_list")).content.decode()

    assert "Ladestationen" in body and "Zuletzt gesehen" in body
    assert "15.01.2025 13:00:00 CET" in body
    # The charger's state and connection in words, as the live script writes them too, with
    # the badge's first letter in capitals.
    assert re.search(r'data-field="connection">Online<', body)
    assert re.search(r'data-field="state">Lädt<', body)


def test_the_fleet_counts_read_by_the_live_script_follow_the_readers_language(
    client, tenant_a, fleet, olga
):
    a_day_begun_an_hour_ago(tenant_a)
    with scoping.scope(tenant_a):
        ChargingSession.objects.filter(pk=fleet["session"].pk).update(energy_wh=Decimal("1234567"))
    speaks(olga, "de")
    client.force_login(olga)

    counts = client.get(page("fleet_counts")).json()

    assert counts["energy_today_kwh"] == "1.234,57"


def test_chart_data_stays_point_decimal_on_a_german_page(client, big_session, olga):
    speaks(olga, "de")
    client.force_login(olga)

    body = client.get(page("session_detail", pk=big_session.pk)).content.decode()

    chart = json.loads(re.search(r'id="session-chart"[^>]*>(.*?)</script>', body).group(1))
    assert 10.8 in chart["power_kw"]  # a number, not "10,8"
    assert 'data-series="power_kw:Leistung (kW),energy_kwh:Energie (kWh)"' in body


def test_the_page_carries_the_live_scripts_words_in_the_readers_language(client, fleet, olga):
    speaks(olga, "de")
    client.force_login(olga)

    body = client.get(page("tenant_overview")).content.decode()

    labels = json.loads(re.search(r'id="live-labels"[^>]*>(.*?)</script>', body).group(1))
    assert labels["status"]["connecting"] == "Verbinde…"
    assert labels["states"]["charging"] == "Lädt"
    assert labels["session"]["stopped"] == "Beendet"
    assert labels["events"]["charger.offline"] == "%(who)s ist offline"
    assert labels["date"] == "d.m.Y" and labels["decimal"] == ","
    assert 'role="status">Verbinde…<' in body


def test_a_live_row_is_rendered_in_the_language_of_whoever_fetches_it(client, fleet, olga, bob):
    speaks(olga, "de")
    row = page("session_row", pk=fleet["session"].pk)

    client.force_login(olga)
    german = client.get(row).content.decode()
    client.force_login(bob)
    english = client.get(row, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Lädt" in german and "3,50 kWh" in german
    assert "Charging" in english and "3.50 kWh" in english


def test_an_alert_email_goes_to_each_recipient_in_their_language(tenant_a, fleet, alice, olga):
    speaks(olga, "de")
    with scoping.scope(tenant_a):
        rule = AlertRule.objects.create(kind=fleet["alert"].kind, severity="critical")
        rule.notify.set(Membership.objects.filter(user__in=[alice, olga]))
        assert send(alert_id=fleet["alert"].pk) == 2

    by_reader = {message.to[0]: message for message in mail.outbox}
    assert "Warnung" in by_reader["olga@a.test"].subject
    assert "Hier bestätigen:" in by_reader["olga@a.test"].body
    assert "Warning" in by_reader["alice@a.test"].subject
    assert "Acknowledge it here:" in by_reader["alice@a.test"].body
