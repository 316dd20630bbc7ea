"""A simulated charger charges over a real socket, stops, and the session's charge detail
record appears priced: through the server's OCPP handlers, the chargers' services, the
session-stopped event, billing's listener and its task (run at once here: `eager`)."""

import time

import pytest

from billing.models import ChargeDetailRecord
from billing.services import assignment_create, tariff_create
from chargers.models import Charger, IdToken
from chargers.services.chargers import charger_set_password
from chargers.simulator import ChargerConfig, SimulatedCharger
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.simulator.fake_csms import PATIENCE
from tests.chargers.simulator.helpers import FAST, running

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "simulated-charger-password-1"
TAG = "SIM-TAG-0001"


@pytest.fixture
def registered(tenant_a):
    """Charger SIM-0001 with its password, the driver's tag, and a tariff for the tenant: a
    1.00 EUR start fee and 0.30 EUR/kWh, 19% VAT."""
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="SIM-0001")
        charger_set_password(charger=charger, password=PASSWORD)
        IdToken.objects.create(uid=TAG)
        tariff = tariff_create(
            name="Standard",
            currency="EUR",
            elements=[
                {"price_components": [{"type": "FLAT", "price": 1.0, "vat": 19}]},
                {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19}]},
            ],
        )
        assignment_create(tariff=tariff)
    charger.refresh_from_db()
    yield charger
    deadline = time.monotonic() + PATIENCE
    with scoping.scope(tenant_a):
        online = Charger.objects.filter(pk=charger.pk, is_online=True)
        while online.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def simulated(server: str, version: str) -> SimulatedCharger:
    config = ChargerConfig(
        url=f"{server}/ocpp/tenant-a/",
        charger_id="SIM-0001",
        password=PASSWORD,
        version=version,
        **FAST,
    )
    return SimulatedCharger.create(config)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_simulated_session_is_priced_when_it_stops(
    ocpp_server_in_process, registered, tenant_a, eager, version
):
    async with running(simulated(ocpp_server_in_process, version)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        await sim.send_meter_values(1)
        await sim.stop_session("Local", connector_id=1)

        def priced():
            return list(ChargeDetailRecord.objects.select_related("session", "tariff"))

        async def issued():
            return await in_a(tenant_a, priced)

        (cdr,) = await eventually(issued, what="a charge detail record")

    assert cdr.session.state == "completed" and cdr.tariff.name == "Standard"
    assert cdr.total_excl_vat_minor >= 100  # the start fee, and whatever energy flowed
    assert cdr.total_incl_vat_minor > cdr.total_excl_vat_minor
    assert cdr.lines[0]["type"] in ("ENERGY", "FLAT")
