"""The connect-and-boot path a whole fleet takes at once after a restart: few queries, no lock
that queues one charger behind another, and the same records as ever."""

from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chargers.alerts.listeners import open_alert_kinds, worth_evaluating
from chargers.alerts.models import Alert, AlertKind
from chargers.events import ChargerBooted, ChargerOnline
from chargers.models import Charger, ConnectionEvent, HandshakeRefusal
from chargers.ocpp import handshake
from chargers.selectors.chargers import charger_for_handshake
from chargers.services.chargers import charger_set_password
from chargers.services.connections import connection_open
from chargers.services.reports import charger_boot_record
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import PASSWORD, basic
from tests.helpers import database_url

pytestmark = pytest.mark.django_db

HEADERS = {b"authorization": basic("CP-1", PASSWORD)["Authorization"].encode()}


@pytest.fixture
def charger(tenant_a):
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="CP-1")
        charger_set_password(charger=charger, password=PASSWORD)
    charger.refresh_from_db()
    return charger


def admit(slug="tenant-a"):
    return handshake.admit(
        tenant_slug=slug,
        identity="CP-1",
        offered=["ocpp1.6"],
        headers=HEADERS,
        remote_addr="192.0.2.1",
    )


def opened(tenant, charger, channel, known=None):
    with scoping.scope(tenant):
        return connection_open(
            charger_id=charger.pk,
            channel_name=channel,
            node="n1",
            remote_addr="192.0.2.1",
            version="1.6",
            known=known,
        )


def test_a_known_charger_is_admitted_with_one_query(tenant_a, charger, django_assert_num_queries):
    with django_assert_num_queries(1):
        admitted = admit()
    assert admitted.charger == charger and admitted.tenant == tenant_a


def test_the_door_reads_the_charger_and_its_tenant_as_the_orm_does(tenant_a, tenant_b, charger):
    def values(row):
        return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}

    with scoping.unscoped():
        expected = Charger.objects.select_related("tenant").get(pk=charger.pk)
    seen = charger_for_handshake(tenant_slug="tenant-a", identity="CP-1")
    assert values(seen) == values(expected) and values(seen.tenant) == values(expected.tenant)
    assert not seen._state.adding and seen.tenant == tenant_a
    assert charger_for_handshake(tenant_slug=tenant_b.slug, identity="CP-1") is None
    assert charger_for_handshake(tenant_slug="tenant-a", identity="CP-2") is None


def test_a_known_charger_of_an_inactive_tenant_is_refused(tenant_a, charger):
    tenant_a.is_active = False
    tenant_a.save()
    assert admit() == handshake.Refused(401)
    with scoping.unscoped():
        assert list(HandshakeRefusal.objects.values_list("reason", flat=True)) == ["unknown_tenant"]


def test_the_socket_the_handshake_saw_is_replaced_and_its_record_closed(tenant_a, charger):
    _, first = opened(tenant_a, charger, "c1")
    seen = admit().charger
    previous, second = opened(tenant_a, charger, "c2", known=seen)
    assert previous == "c1"
    with scoping.scope(tenant_a):
        assert ConnectionEvent.objects.get(pk=first).disconnected_at is not None
        assert ConnectionEvent.objects.get(pk=second).disconnected_at is None
        assert Charger.objects.get().channel_name == "c2"


def test_a_socket_that_came_after_the_handshake_is_replaced_too(tenant_a, charger):
    seen = admit().charger  # no socket yet
    _, first = opened(tenant_a, charger, "c1")
    previous, _ = opened(tenant_a, charger, "c2", known=seen)
    assert previous == "c1"
    with scoping.scope(tenant_a):
        assert ConnectionEvent.objects.get(pk=first).disconnected_at is not None
        assert Charger.objects.get().channel_name == "c2"


def test_a_charger_without_a_socket_is_taken_over_without_a_lock(tenant_a, charger):
    seen = admit().charger
    with CaptureQueriesContext(connection) as queries:
        opened(tenant_a, charger, "c1", known=seen)
    statements = [query["sql"] for query in queries.captured_queries]
    assert not any("FOR UPDATE" in sql for sql in statements)
    assert sum('"chargers_charger"' in sql for sql in statements) == 1
    assert not any(sql.startswith('UPDATE "chargers_connectionevent"') for sql in statements)


@pytest.mark.django_db(transaction=True)
def test_a_boot_locks_its_charger_but_not_its_tenant(tenant_a, charger):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    url = database_url(connection.settings_dict).replace("postgres://", "postgresql://", 1)
    with scoping.scope(tenant_a), transaction.atomic():
        charger_boot_record(charger_id=charger.pk, reported={"vendor": "V", "model": "M"})
        with psycopg.connect(url, autocommit=True) as other:
            other.execute(
                "SELECT id FROM cpms_tenant WHERE id = %s FOR UPDATE NOWAIT", [tenant_a.pk]
            )
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(
                    "SELECT id FROM chargers_charger WHERE id = %s FOR UPDATE NOWAIT", [charger.pk]
                )


def boot_event(tenant, charger, previous_boot_at):
    return ChargerBooted(
        tenant_id=tenant.pk,
        charger_id=charger.pk,
        identity=charger.identity,
        status="Accepted",
        changes={},
        firmware_version="",
        previous_boot_at=previous_boot_at,
    )


def test_an_accepted_first_boot_is_settled_without_a_query(
    tenant_a, charger, django_assert_num_queries
):
    with scoping.scope(tenant_a), django_assert_num_queries(0):
        assert not worth_evaluating(boot_event(tenant_a, charger, None))


def test_a_boot_long_after_the_last_is_settled_without_counting_boots(
    tenant_a, charger, django_assert_num_queries
):
    long_ago = timezone.now() - timedelta(hours=2)
    # The charger's open alerts and the reboot rule's window; no count of its boots.
    with scoping.scope(tenant_a), django_assert_num_queries(2):
        assert not worth_evaluating(boot_event(tenant_a, charger, long_ago))


def test_the_third_boot_within_the_window_queues_an_evaluation(
    tenant_a, charger, django_capture_on_commit_callbacks
):
    queued = []
    with mock.patch(
        "chargers.alerts.listeners.queue_task",
        side_effect=lambda task, **kwargs: queued.append(kwargs["data"]),
    ):
        for _ in range(3):
            with scoping.scope(tenant_a), django_capture_on_commit_callbacks(execute=True):
                charger_boot_record(charger_id=charger.pk, reported={"vendor": "V"})
            assert len(queued) < 2
    assert len(queued) == 1 and queued[0]["previous_boot_at"] is not None


def test_open_alert_kinds_are_the_chargers_open_ones_in_its_tenant(tenant_a, tenant_b, charger):
    rows = [
        (tenant_a, AlertKind.CHARGER_OFFLINE, None),
        (tenant_a, AlertKind.BOOT_REJECTED, timezone.now()),  # resolved
        (tenant_b, AlertKind.REPEATED_REBOOTS, None),  # another tenant's
    ]
    for tenant, kind, resolved_at in rows:
        with scoping.scope(tenant):
            Alert.objects.create(
                kind=kind,
                subject=f"charger:{charger.pk}",
                severity="warning",
                title="t",
                charger_id=charger.pk,
                opened_at=timezone.now(),
                resolved_at=resolved_at,
            )
    with scoping.scope(tenant_a):
        assert open_alert_kinds(tenant_a.pk, charger.pk) == {AlertKind.CHARGER_OFFLINE}
    with scoping.scope(tenant_b), pytest.raises(scoping.TenantScopeError):
        open_alert_kinds(tenant_a.pk, charger.pk)  # another tenant's id, passed in


def test_a_fleet_coming_online_asks_once_for_open_alerts_while_none_is_open(
    tenant_a, django_assert_num_queries
):
    with scoping.scope(tenant_a):
        fleet = [Charger.objects.create(identity=f"CP-{n}") for n in range(1, 6)]
        with django_assert_num_queries(1):
            assert not any(worth_evaluating(ChargerOnline.of(charger)) for charger in fleet)
