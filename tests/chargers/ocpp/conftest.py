"""Fixtures of the OCPP tests of this package (those every package uses, the servers and
`make_charger`, are in fixtures.py)."""

import pytest


@pytest.fixture
def charger(make_charger, tenant_a):
    """Tenant A's charger CP-1, with the password of clients.py."""
    return make_charger(tenant_a)
