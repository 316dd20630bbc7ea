"""The OCPP benchmark's tenant looks like one in service: its chargers have sessions behind
them and PostgreSQL has statistics of every table (on empty, never analyzed tables it planned
lookups by primary key as scans of the tenant's rows)."""

import pytest
from django.db import connection

from bench.seed import HISTORY, seed
from bench.targets import ID_TAGS, PASSWORD
from chargers.models import ChargingSession, SessionState
from cpms.models import Tenant
from cpms.tenancy import scoping


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_tenant_has_completed_sessions_and_planner_statistics():
    seed(tenant_slug="bench", prefix="BENCH-", count=3, password=PASSWORD, tags=ID_TAGS)

    with scoping.scope(Tenant.objects.get(slug="bench")):
        sessions = ChargingSession.objects.all()
        assert sessions.count() == 3 * HISTORY
        assert {session.state for session in sessions} == {SessionState.COMPLETED}
        assert all(session.stopped_at > session.started_at for session in sessions)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                "('chargers_charger', 'chargers_chargingsession', 'chargers_metersample')"
            )
            statistics = dict(cursor.fetchall())
        # -1: never analyzed; an analyzed empty table has 0.
        assert statistics == {
            "chargers_charger": 3,
            "chargers_chargingsession": 3 * HISTORY,
            "chargers_metersample": 0,
        }
