"""1.6 California Pricing after Authorize: whether a charger shows costs is read once per
socket, and read again after a configuration reply or a boot, so the driver's SetUserPrice
follows the charger's configuration as it is now."""

import pytest
from django.utils import timezone
from ocpp.v16 import call, call_result

from billing.services import assignment_create, tariff_create
from chargers.commands import asend_command
from chargers.models import Command, CommandStatus, IdToken
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import connected

pytestmark = pytest.mark.django_db(transaction=True)

COST_KEY = "CustomDisplayCostAndPrice"


@pytest.fixture
def priced(tenant_a):
    """Two drivers' tokens and a tariff for the whole tenant, so every accepted token has a
    price at CP-1."""

    def arrange():
        IdToken.objects.create(uid="EARLY-1")
        IdToken.objects.create(uid="LATER-1")
        tariff = tariff_create(
            name="Standard",
            currency="EUR",
            elements=[{"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19}]}],
        )
        assignment_create(tariff=tariff)

    return arrange


def shows_costs(value: str) -> call_result.GetConfiguration:
    return call_result.GetConfiguration(
        configuration_key=[{"key": COST_KEY, "readonly": True, "value": value}]
    )


async def read_configuration(charger) -> None:
    command = await asend_command(charger, "GetConfiguration", {"key": [COST_KEY]})
    assert command.status == CommandStatus.ANSWERED


def prices_for(cp) -> list[str]:
    """The tokens the charger was sent a SetUserPrice for, in order."""
    return [
        payload["data"]
        for action, payload in cp.received
        if action == "DataTransfer" and payload.get("message_id") == "SetUserPrice"
    ]


async def priced_tokens(cp, count: int) -> list[str]:
    async def sent():
        found = prices_for(cp)
        return found if len(found) >= count else None

    found = await eventually(sent, what=f"{count} SetUserPrice")
    return ["LATER-1" if "LATER-1" in data else "EARLY-1" for data in found]


async def test_a_configuration_read_after_an_authorize_is_heeded_by_the_next(
    command_server, tenant_a, charger, priced
):
    await in_a(tenant_a, priced)
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        # Unread, a 1.6 charger shows no costs: remembered for the socket.
        early = await cp.call(call.Authorize(id_tag="EARLY-1"))
        cp.replies["GetConfiguration"] = shows_costs("true")
        await read_configuration(charger)
        later = await cp.call(call.Authorize(id_tag="LATER-1"))
        tokens = await priced_tokens(cp, 1)

    assert early.id_tag_info["status"] == later.id_tag_info["status"] == "Accepted"
    assert tokens == ["LATER-1"]


async def test_a_configuration_read_that_turns_costs_off_stops_the_price(
    command_server, tenant_a, charger, priced
):
    await in_a(tenant_a, priced)
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        cp.replies["GetConfiguration"] = shows_costs("true")
        await read_configuration(charger)
        await cp.call(call.Authorize(id_tag="EARLY-1"))
        assert await priced_tokens(cp, 1) == ["EARLY-1"]
        cp.replies["GetConfiguration"] = shows_costs("false")
        await read_configuration(charger)
        await cp.call(call.Authorize(id_tag="LATER-1"))
        # Turned back on: the price reaches the third driver, and none went to the second.
        cp.replies["GetConfiguration"] = shows_costs("true")
        await read_configuration(charger)
        await cp.call(call.Authorize(id_tag="EARLY-1"))
        tokens = await priced_tokens(cp, 2)

    assert tokens == ["EARLY-1", "EARLY-1"]


async def test_a_boot_makes_the_next_authorize_read_the_configuration_again(
    command_server, tenant_a, charger, priced
):
    await in_a(tenant_a, priced)
    async with connected(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        await cp.call(call.Authorize(id_tag="EARLY-1"))

        # A reply recorded without passing through this socket's commands (one the charger
        # gave before it reconnected, say): only a boot makes the socket look again.
        def recorded_elsewhere():
            Command.objects.create(
                tenant_id=charger.tenant_id,
                charger=charger,
                action="GetConfiguration",
                status=CommandStatus.ANSWERED,
                response={"configurationKey": [{"key": COST_KEY, "value": "true"}]},
                completed_at=timezone.now(),
            )

        await in_a(tenant_a, recorded_elsewhere)
        await cp.boot()
        await cp.call(call.Authorize(id_tag="LATER-1"))
        tokens = await priced_tokens(cp, 1)

    assert tokens == ["LATER-1"]
