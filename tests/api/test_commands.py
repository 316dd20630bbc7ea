"""Commands through the API reach a real OCPP 1.6 charger connected to a running daphne, and
the reply comes back: at once, or by polling after a 202. A request waits a bounded moment."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from chargers.api import commands as commands_api
from chargers.models import Command, CommandStatus
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import connected

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("needs_redis")]


@pytest.fixture
def charger(make_charger, tenant_a):
    return make_charger(tenant_a, identity="CP-API")


@pytest.fixture
def waits(monkeypatch):
    """The bounds the API's request waited for an outcome, in seconds, in order."""
    bounds = []
    await_outcome = commands_api.await_outcome

    def recording(command, seconds):
        bounds.append(seconds)
        return await_outcome(command, seconds)

    monkeypatch.setattr(commands_api, "await_outcome", recording)
    return bounds


def post(client, body):
    return sync_to_async(client.post)(reverse("api:command-list"), body, format="json")


async def test_a_version_neutral_command_round_trips_to_the_charger(
    ocpp_server, api, keys, charger
):
    client = api(keys[ApiKeyRole.OPERATOR])
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        body = {
            "charger": charger.pk,
            "action": "reset",
            "arguments": {"hard": True},
            "timeout": 10,
        }
        response = await post(client, body)
    assert response.status_code == 201, response.content
    command = response.json()
    assert command["status"] == CommandStatus.ANSWERED
    assert command["response"] == {"status": "Accepted"}
    assert cp.received == [("Reset", {"type": "Hard"})]
    assert command["source"].startswith("api:cpms_")


async def test_a_raw_ocpp_command_round_trips_to_the_charger(ocpp_server, api, keys, charger):
    client = api(keys[ApiKeyRole.OPERATOR])
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        body = {
            "charger": charger.pk,
            "ocpp_action": "DataTransfer",
            "payload": {"vendorId": "com.acme", "messageId": "ping"},
        }
        response = await post(client, body)
    assert response.json()["response"] == {"status": "Accepted", "data": "pong"}


async def test_a_command_without_waiting_is_202_and_can_be_polled(
    ocpp_server, api, keys, charger, waits
):
    client = api(keys[ApiKeyRole.OPERATOR])
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        body = {"charger": charger.pk, "action": "clear_cache", "wait": False}
        response = await post(client, body)
        assert response.status_code == 202 and waits == []
        location = response["Location"]
        for _ in range(100):
            polled = (await sync_to_async(client.get)(location)).json()
            if polled["status"] == CommandStatus.ANSWERED:
                break
            await asyncio.sleep(0.05)
    assert polled["status"] == CommandStatus.ANSWERED
    assert cp.received == [("ClearCache", {})]


async def test_a_command_to_an_offline_charger_says_so(ocpp_server, api, keys, charger):
    response = await post(
        api(keys[ApiKeyRole.OPERATOR]), {"charger": charger.pk, "action": "clear_cache"}
    )
    assert response.status_code == 201 and response.json()["status"] == CommandStatus.OFFLINE


async def test_a_command_to_an_offline_charger_without_waiting_is_201_as_its_outcome_is_known(
    ocpp_server, api, keys, charger
):
    body = {"charger": charger.pk, "action": "clear_cache", "wait": False}
    response = await post(api(keys[ApiKeyRole.OPERATOR]), body)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == CommandStatus.OFFLINE
    assert "Location" not in response


async def test_a_read_only_key_cannot_send_commands(ocpp_server, api, keys, charger):
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        response = await post(
            api(keys[ApiKeyRole.READ_ONLY]), {"charger": charger.pk, "action": "clear_cache"}
        )
    assert response.status_code == 403 and cp.received == []


async def test_another_tenants_key_cannot_command_the_charger(ocpp_server, api, keys, charger):
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        response = await post(api(keys["charlie"]), {"charger": charger.pk, "action": "reset"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["charger"]
    assert cp.received == []


async def test_a_charger_that_answers_too_late_is_a_timeout_within_the_bound(
    ocpp_server, api, keys, charger, waits
):
    client = api(keys[ApiKeyRole.OPERATOR])
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        cp.delay = 5
        response = await post(
            client, {"charger": charger.pk, "action": "clear_cache", "timeout": 1}
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == CommandStatus.TIMEOUT
    # The charger's second plus the one-second allowance, not the charger's five.
    assert waits == [2.0]


async def test_a_wait_past_the_sync_bound_answers_202_and_the_outcome_can_be_polled(
    ocpp_server, api, keys, charger, monkeypatch, waits
):
    monkeypatch.setattr(commands_api, "MAX_SYNC_WAIT", 1.0)
    client = api(keys[ApiKeyRole.OPERATOR])
    async with connected(ocpp_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        cp.delay = 2.5
        response = await post(
            client, {"charger": charger.pk, "action": "clear_cache", "timeout": 10}
        )
        assert response.status_code == 202, response.content
        assert response.json()["status"] in (CommandStatus.QUEUED, CommandStatus.SENT)
        # The request waited the (lowered) bound, not the command's ten-second timeout.
        assert waits == [1.0]
        for _ in range(100):
            polled = (await sync_to_async(client.get)(response["Location"])).json()
            if polled["status"] == CommandStatus.ANSWERED:
                break
            await asyncio.sleep(0.05)
    assert polled["status"] == CommandStatus.ANSWERED
    assert polled["response"] == {"status": "Accepted"}


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=10), CommandStatus.TIMEOUT),
        # Its own 30 s timeout: the sender would have given up after 2 x 30 + 5 s.
        (timedelta(seconds=70), CommandStatus.TIMEOUT),
        (timedelta(seconds=5), CommandStatus.QUEUED),
    ],
)
def test_a_command_nothing_will_finish_is_given_up_on_when_polled(
    api, keys, world, tenant_a, age, expected
):
    command = world["command"]
    with scoping.scope(tenant_a):
        Command.objects.filter(pk=command.pk).update(created_at=timezone.now() - age)
    url = reverse("api:command-detail", kwargs={"pk": command.pk})
    polled = api(keys[ApiKeyRole.READ_ONLY]).get(url).json()
    assert polled["status"] == expected
    with scoping.scope(tenant_a):
        assert Command.objects.get(pk=command.pk).status == expected
