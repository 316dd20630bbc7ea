"""Times on the operators' pages and in their emails are in the tenant's (or site's) zone."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from chargers.alerts.models import Alert, AlertKind, AlertRule, Severity
from chargers.alerts.notify import send
from chargers.models import IdToken, OcppMessage
from cpms.models import Membership
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet

# Tenant A works in Europe/Berlin: noon UTC in January is 13:00 CET.
NOON_UTC = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def fleet(tenant_a, site_a):
    with scoping.scope(tenant_a):
        rows = make_fleet(site_a)
        Alert.objects.filter(pk=rows["alert"].pk).update(opened_at=NOON_UTC)
        return rows


def page(name, **kwargs):
    return reverse(name, kwargs={"tenant_slug": "tenant-a", **kwargs})


def test_the_alert_list_shows_when_an_alert_opened_in_the_tenants_zone(client, fleet, bob):
    client.force_login(bob)
    body = client.get(page("alert_list")).content.decode()
    assert "2025-01-15 13:00 CET" in body and "Opened (Europe/Berlin)" in body
    assert "UTC" not in body


def test_an_alerts_page_shows_its_times_in_the_tenants_zone(client, fleet, bob):
    client.force_login(bob)
    body = client.get(page("alert_detail", pk=fleet["alert"].pk)).content.decode()
    assert "2025-01-15 13:00:00 CET" in body and " UTC" not in body


def test_the_message_log_shows_times_in_the_tenants_zone(client, tenant_a, fleet, bob):
    with scoping.scope(tenant_a):
        OcppMessage.objects.create(
            charger=fleet["charger"], at=NOON_UTC, incoming=True, message_type=2, body="[]"
        )
    client.force_login(bob)
    body = client.get(page("charger_messages", pk=fleet["charger"].pk)).content.decode()
    assert "2025-01-15 13:00:00.000000 CET" in body


def test_an_id_tokens_expiry_is_typed_and_shown_in_the_tenants_zone(client, tenant_a, olga):
    client.force_login(olga)
    response = client.post(
        page("id_token_create"),
        {"uid": "04EXPIRY", "type": "ISO14443", "expires_at": "2030-01-31T00:00"},
    )
    assert response.status_code == 302
    with scoping.scope(tenant_a):
        token = IdToken.objects.get(uid="04EXPIRY")
    assert token.expires_at == datetime(2030, 1, 30, 23, 0, tzinfo=UTC)
    assert "2030-01-31 00:00 CET" in client.get(page("id_token_list")).content.decode()
    form = client.get(page("id_token_edit", pk=token.pk)).content.decode()
    assert 'value="2030-01-31 00:00:00"' in form


def test_an_alert_email_says_when_it_opened_in_the_tenants_zone(tenant_a, fleet, alice):
    with scoping.scope(tenant_a):
        rule = AlertRule.objects.create(kind=AlertKind.CHARGER_OFFLINE, severity=Severity.WARNING)
        rule.notify.set(Membership.objects.filter(user=alice))
        send(alert_id=fleet["alert"].pk)
    (message,) = mail.outbox
    assert "Opened 2025-01-15 13:00 CET." in message.body
