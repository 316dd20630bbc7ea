"""The 1.6 session writes inside a socket's transaction: one transaction, no savepoints (each
costs two round trips on every message), and a resent start still finds its session."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from chargers.metering import Sample
from chargers.models import ChargingSession, SessionState
from chargers.services.sessions import meter_values_record, session_start, session_stop
from tests.chargers.factories import make_fleet

pytestmark = pytest.mark.django_db(transaction=True)
STARTED = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def charger(tenant_a, site_a, in_scope):
    with in_scope(tenant_a):
        return make_fleet(site_a)["charger"]


def _savepoints(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_a_whole_session_is_written_without_a_savepoint(tenant_a, charger, in_scope):
    with in_scope(tenant_a), CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            started = session_start(
                charger_id=charger.pk,
                connector_id=2,
                id_tag="CARD-1",
                meter_start=100,
                timestamp=STARTED,
            )
        transaction_id = started.session.transaction_id
        with transaction.atomic():
            meter_values_record(
                charger_id=charger.pk,
                evse_id=2,
                transaction_id=transaction_id,
                samples=[Sample(STARTED, "Energy.Active.Import.Register", Decimal(600), "Wh")],
                payload={},
            )
        with transaction.atomic():
            session_stop(
                charger_id=charger.pk,
                transaction_id=transaction_id,
                meter_stop=Decimal(900),
                timestamp=STARTED.replace(hour=9),
            )

    assert _savepoints(queries) == []
    with in_scope(tenant_a):
        session = ChargingSession.objects.get(transaction_id=transaction_id)
    assert (session.state, session.energy_wh) == (SessionState.COMPLETED, Decimal(800))


def test_a_resent_start_gets_the_same_session_and_stores_no_other(tenant_a, charger, in_scope):
    start = {
        "charger_id": charger.pk,
        "connector_id": 2,
        "id_tag": "CARD-1",
        "meter_start": 100,
        "timestamp": STARTED,
    }
    with in_scope(tenant_a):
        with transaction.atomic():
            first = session_start(**start)
        with transaction.atomic():
            again = session_start(**start)

        assert again.session.pk == first.session.pk
        assert ChargingSession.objects.filter(charger=charger, evse_id=2).count() == 1
