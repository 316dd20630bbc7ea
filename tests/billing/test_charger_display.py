"""The driver's price and the session's cost on a 2.0.1 charger's screen (OCPP 2.0.1 I01/I02):
the Authorize and TransactionEvent Started replies carry the price as a personal message when
a tariff applies, the Ended reply the session's total; without a tariff, neither. Through a
real socket to the server, the simulator keeping what it was sent."""

import json
import time

import pytest
from asgiref.sync import sync_to_async

from billing.models import ChargeDetailRecord
from billing.services import assignment_create, billing_settings_set, tariff_create
from billing.tasks import send_running_costs
from chargers.commands import asend_command
from chargers.models import Charger, Command, CommandStatus, IdToken
from chargers.ocpp import builders
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
    """Charger SIM-0001 with its password and the driver's tag (no tariff yet)."""
    with scoping.scope(tenant_a):
        charger = Charger.objects.create(identity="SIM-0001")
        charger_set_password(charger=charger, password=PASSWORD)
        IdToken.objects.create(uid=TAG)
    charger.refresh_from_db()
    yield charger
    deadline = time.monotonic() + PATIENCE
    with scoping.scope(tenant_a):
        online = Charger.objects.filter(pk=charger.pk, is_online=True)
        while online.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def priced(tenant_a):
    """A start fee of 1.00 EUR and 0.30 EUR/kWh, 19% VAT, for the whole tenant."""
    with scoping.scope(tenant_a):
        tariff = tariff_create(
            name="Standard",
            currency="EUR",
            elements=[
                {"price_components": [{"type": "FLAT", "price": 1.0, "vat": 19}]},
                {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19}]},
            ],
        )
        assignment_create(tariff=tariff)


def simulated(server: str, version: str = "2.0.1", **overrides) -> SimulatedCharger:
    config = ChargerConfig(
        url=f"{server}/ocpp/tenant-a/",
        charger_id="SIM-0001",
        password=PASSWORD,
        version=version,
        **{**FAST, **overrides},
    )
    return SimulatedCharger.create(config)


async def test_a_201_charger_shows_the_drivers_price_and_the_sessions_total(
    ocpp_server_in_process, registered, priced, tenant_a, eager
):
    async with running(simulated(ocpp_server_in_process)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        transaction_id = str(session.transaction_id)
        await sim.send_meter_values(1)
        await sim.stop_session("Local", connector_id=1)
        await sim.wait_until(lambda: transaction_id in sim.final_costs, PATIENCE)

        def records():
            return list(ChargeDetailRecord.objects.all())

        async def issued():
            return await in_a(tenant_a, records)

        (cdr,) = await eventually(issued, what="a charge detail record")

    # Authorize's reply and Started's: the unit prices with VAT, as the screen shows them.
    assert sim.shown and all(m == sim.shown[0] for m in sim.shown)
    assert sim.shown[0] == "€0.36/kWh, €1.19 per session incl. VAT"
    # The Ended reply's total is the record's, to the cent (sent as a number with two digits).
    assert sim.final_costs[transaction_id] == cdr.total_incl_vat_minor / 100


async def test_without_a_tariff_the_charger_is_told_no_price_and_no_cost(
    ocpp_server_in_process, registered, eager
):
    async with running(simulated(ocpp_server_in_process)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        await sim.send_meter_values(1)
        await sim.stop_session("Local", connector_id=1)

    assert sim.shown == []
    assert sim.final_costs == {}


async def test_a_201_charger_receives_its_running_cost_and_shows_the_final_cost(
    ocpp_server_in_process, registered, priced, tenant_a, eager
):
    async with running(simulated(ocpp_server_in_process)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        transaction_id = str(session.transaction_id)
        await sim.send_meter_values(1)
        # The beat's round: the session is due its first cost.
        await sync_to_async(send_running_costs)()
        assert await sim.wait_until(lambda: bool(sim.running_costs), PATIENCE)
        await sim.stop_session("Local", connector_id=1)
        assert await sim.wait_until(lambda: transaction_id in sim.final_costs, PATIENCE)

    (tx, cost) = sim.running_costs[0]
    assert tx == transaction_id and cost >= 1.19  # the start fee at least, VAT included
    assert sim.final_costs[transaction_id] >= cost


async def _read_configuration(charger: Charger) -> None:
    request = builders.get_configuration(charger)
    command = await asend_command(charger, request.action, request.payload)
    assert command.status == CommandStatus.ANSWERED


async def test_a_16_charger_with_california_pricing_gets_running_and_final_cost(
    ocpp_server_in_process, registered, priced, tenant_a, eager
):
    sim = simulated(ocpp_server_in_process, "1.6", california_pricing=True)
    async with running(sim):
        # The charger says it shows costs when its configuration is read.
        await _read_configuration(registered)
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        transaction_id = str(session.transaction_id)
        await sim.send_meter_values(1)
        await sync_to_async(send_running_costs)()
        assert await sim.wait_until(lambda: bool(sim.running_costs), PATIENCE)
        await sim.stop_session("Local", connector_id=1)
        assert await sim.wait_until(lambda: transaction_id in sim.final_costs, PATIENCE)

        def records():
            return list(ChargeDetailRecord.objects.all())

        async def issued():
            return await in_a(tenant_a, records)

        (cdr,) = await eventually(issued, what="a charge detail record")

    assert sim.running_costs[0][0] == transaction_id
    assert sim.final_costs[transaction_id] == cdr.total_incl_vat_minor / 100
    # SetUserPrice: the driver's price once the token was accepted, as 2.0.1 shows it.
    assert sim.shown == ["€0.36/kWh, €1.19 per session incl. VAT"]
    sent = await in_a(
        tenant_a,
        lambda: [
            json.loads(c.payload["data"])
            for c in Command.objects.filter(action="DataTransfer")
            if c.payload["messageId"] == "SetUserPrice"
        ],
    )
    assert sent == [{"idToken": TAG, "priceText": sim.shown[0]}]


async def test_a_16_charger_without_california_pricing_gets_no_cost(
    ocpp_server_in_process, registered, priced, tenant_a, eager
):
    sim = simulated(ocpp_server_in_process, "1.6")
    async with running(sim):
        await _read_configuration(registered)
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        await sync_to_async(send_running_costs)()
        await sim.stop_session("Local", connector_id=1)

    # Decided before anything was sent: the only command is the configuration read.
    assert await in_a(tenant_a, lambda: Command.objects.count()) == 1
    assert sim.running_costs == [] and sim.final_costs == {} and sim.shown == []


async def test_a_tenant_that_sends_no_costs_sends_none(
    ocpp_server_in_process, registered, priced, tenant_a, eager
):
    await in_a(tenant_a, lambda: billing_settings_set(cost_update_seconds=0))
    async with running(simulated(ocpp_server_in_process)) as sim:
        session = await sim.start_session(TAG, connector_id=1)
        assert session is not None
        await sync_to_async(send_running_costs)()
        await sim.stop_session("Local", connector_id=1)

    assert await in_a(tenant_a, lambda: Command.objects.count()) == 0
    assert sim.running_costs == []
