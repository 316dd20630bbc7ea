"""Fixtures of the smart-charging tests: a load-managed depot of tenant A, and the listeners'
work run inline on a clean cache."""

from decimal import Decimal
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.utils import timezone

from chargers.models import Charger, ChargingSession, Connector, SessionState
from chargers.smart_charging import services
from cpms.tenancy import scoping


@pytest.fixture
def depot(tenant_a, site_a):
    """Mall A with a 32 A three-phase grid connection and six 32 A chargers (1.6 and 2.0.1 in
    turn), online on sockets nobody reads, each charging a session at 11 kW."""
    now = timezone.now()
    layer = get_channel_layer()
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal("32"))
        chargers, sessions = [], []
        for n in range(1, 7):
            charger = Charger.objects.create(
                identity=f"CP-{n}",
                site=site_a,
                ocpp_version="1.6" if n % 2 else "2.0.1",
                is_online=True,
                channel_name=async_to_sync(layer.new_channel)(),
            )
            Connector.objects.create(charger=charger, evse_id=1, connector_id=1, status="Charging")
            sessions.append(
                ChargingSession.objects.create(
                    charger=charger,
                    site=site_a,
                    evse_id=1,
                    connector_id=1,
                    transaction_id=str(100 + n),
                    started_at=now,
                    state=SessionState.ACTIVE,
                    power_w=Decimal("11000"),
                )
            )
            chargers.append(charger)
    return {"site": site_a, "chargers": chargers, "sessions": sessions}


@pytest.fixture
def inline_handoff():
    """The listeners' work runs inline, as on the embedded defaults: against Redis it goes to
    the hand-off's sender thread (tested in tests/cpms/test_handoff.py), which tests would have
    to wait for."""
    with mock.patch("cpms.handoff._nothing_stalls", return_value=True):
        yield


@pytest.fixture
def empty_cache():
    """No debounce key or cached fact left by another test (or by the fixtures' own writes)."""
    cache.clear()
    yield
    cache.clear()
