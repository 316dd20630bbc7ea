"""Fixtures of the smart-charging tests: a load-managed depot of tenant A, and the listeners'
work run inline on a clean cache."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from chargers.smart_charging import services
from cpms.tenancy import scoping
from tests.chargers.smart_charging.helpers import charging_chargers


@pytest.fixture
def depot(tenant_a, site_a):
    """Mall A with a 32 A three-phase grid connection and six 32 A chargers (1.6 and 2.0.1 in
    turn), online on sockets nobody reads, each charging a session at 11 kW."""
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal("32"))
        chargers, sessions = charging_chargers(
            site_a, [f"CP-{n}" for n in range(1, 7)], first_transaction=100
        )
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
