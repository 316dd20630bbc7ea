"""Fixtures of the reservation tests: an online charger with two connectors and the tenant's
tokens, in tenant A."""

import pytest

from chargers.models import Charger, Connector, IdToken
from chargers.reservations import listeners
from cpms.tenancy import scoping


@pytest.fixture(autouse=True)
def fresh_reservation_memory():
    """Each test starts with nothing remembered of reserved chargers or sessions looked at:
    ids come round again."""
    listeners.forget()


@pytest.fixture
def station(tenant_a, site_a):
    """CP-R: online, OCPP 1.6, connectors 1 and 2 Available."""
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(
            identity="CP-R", site=site_a, ocpp_version="1.6", is_online=True
        )
        for evse_id in (1, 2):
            Connector.objects.create(
                charger=charger, evse_id=evse_id, connector_id=1, status="Available"
            )
    return charger


@pytest.fixture
def tokens(tenant_a):
    with scoping.scope(tenant_a):
        fleet = IdToken.objects.create(uid="FLEET-1", label="Fleet")
        return {
            "driver": IdToken.objects.create(uid="04DRIVER", label="Driver"),
            "van": IdToken.objects.create(uid="04VAN", label="Van", group=fleet),
            "van2": IdToken.objects.create(uid="04VAN2", label="Van 2", group=fleet),
            "blocked": IdToken.objects.create(uid="04LOST", blocked=True),
            "fleet": fleet,
        }
