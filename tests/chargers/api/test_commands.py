"""Commands through the API: a request never waits for the charger. A command whose outcome is
not known at once answers 202 with the URL to poll; with a real OCPP 1.6 charger connected to the
running server (`command_server`), polling that URL brings the reply. Reading a command never
changes it."""

from datetime import timedelta
from unittest import mock

import pytest
import redis
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from chargers import commands
from chargers.models import Command, CommandStatus
from chargers.services.commands import STALE_ERROR, commands_time_out_stale
from cpms.models import ApiKeyRole
from cpms.tenancy import scoping
from tests.aio import eventually
from tests.chargers.ocpp.clients import connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(api, keys):
    """An API client with an operator's key of tenant A."""
    return api(keys[ApiKeyRole.OPERATOR])


@pytest.fixture
def charger(make_charger, tenant_a):
    return make_charger(tenant_a, identity="CP-API")


def post(client, body):
    return sync_to_async(client.post)(reverse("api:command-list"), body, format="json")


def detail(pk: int) -> str:
    return reverse("api:command-detail", kwargs={"pk": pk})


async def polled(client, location: str) -> dict:
    """The command at `location` as soon as it is finished, read the way a client polls it."""
    get = sync_to_async(client.get)

    async def finished():
        body = (await get(location)).json()
        return body if body["status"] not in commands.UNFINISHED else None

    return await eventually(finished, what=f"{location} finished")


def stored(tenant, pk: int) -> Command:
    with scoping.scope(tenant):
        return Command.objects.get(pk=pk)


# --- Answering at once ----------------------------------------------------------------------------


def test_a_command_on_its_way_is_202_with_the_url_to_poll(operator, charger, listening):
    response = operator.post(
        reverse("api:command-list"), {"charger": charger.pk, "action": "clear_cache"}, format="json"
    )
    assert response.status_code == 202, response.content
    assert response["Location"] == detail(response.json()["id"])
    assert response["Retry-After"] == "1"
    assert response.json()["status"] == CommandStatus.QUEUED


@pytest.mark.parametrize("wait", [True, False])
def test_wait_is_accepted_and_no_longer_waits(operator, charger, listening, wait):
    body = {"charger": charger.pk, "action": "clear_cache", "wait": wait}
    response = operator.post(reverse("api:command-list"), body, format="json")
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("wait", [True, False])
def test_a_command_to_an_offline_charger_is_201_as_its_outcome_is_known(operator, charger, wait):
    body = {"charger": charger.pk, "action": "clear_cache", "wait": wait}
    response = operator.post(reverse("api:command-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == CommandStatus.OFFLINE
    assert "Location" not in response


def test_a_command_while_redis_does_not_answer_is_a_503_and_nothing_is_recorded(
    operator, charger, tenant_a
):
    # The rate limit's counters live in Redis: a stalled Redis times out there first.
    with mock.patch(
        "cpms.api.base.PerKeyThrottle.allow_request",
        side_effect=redis.TimeoutError("Timeout reading from socket"),
    ):
        response = operator.post(
            reverse("api:command-list"),
            {"charger": charger.pk, "action": "clear_cache"},
            format="json",
        )
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert "briefly unavailable" in response.json()["error"]["message"]
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_the_reference_says_how_to_poll_and_that_wait_is_ignored(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"]["/api/v1/commands/"]["post"]
    assert set(create["responses"]) >= {"201", "202"}
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert request["wait"]["deprecated"] is True
    retrieve = schema["paths"]["/api/v1/commands/{id}/"]["get"]
    assert "2 × `timeout` + 125 s" in retrieve["description"]


# --- Who may send and read ------------------------------------------------------------------------


def test_a_read_only_key_cannot_send_commands(api, keys, tenant_a, charger, listening):
    response = api(keys[ApiKeyRole.READ_ONLY]).post(
        reverse("api:command-list"), {"charger": charger.pk, "action": "clear_cache"}, format="json"
    )
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_another_tenants_key_cannot_command_the_charger(api, keys, tenant_a, charger, listening):
    response = api(keys["charlie"]).post(
        reverse("api:command-list"), {"charger": charger.pk, "action": "reset"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["charger"]
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_another_tenants_key_gets_404_for_a_command(api, keys, world):
    response = api(keys["charlie"]).get(detail(world["command"].pk))
    assert response.status_code == 404


# --- Reading never writes -------------------------------------------------------------------------


def overdue(tenant, command: Command, age: timedelta) -> None:
    with scoping.scope(tenant):
        Command.objects.filter(pk=command.pk).update(created_at=timezone.now() - age)


def test_reading_a_command_past_its_deadline_shows_it_as_stored(api, keys, world, tenant_a):
    command = world["command"]
    overdue(tenant_a, command, timedelta(minutes=10))
    polled = api(keys[ApiKeyRole.READ_ONLY]).get(detail(command.pk)).json()
    assert polled["status"] == CommandStatus.QUEUED
    assert stored(tenant_a, command.pk).status == CommandStatus.QUEUED


def test_the_sweep_gives_up_on_an_overdue_command_and_the_next_read_says_so(
    api, keys, world, tenant_a
):
    command = world["command"]
    overdue(tenant_a, command, commands.pending_at_most(command.timeout))
    with scoping.unscoped():
        assert commands_time_out_stale() == 1
    polled = api(keys[ApiKeyRole.READ_ONLY]).get(detail(command.pk)).json()
    assert polled["status"] == CommandStatus.TIMEOUT
    assert polled["error"] == STALE_ERROR


# --- With a real charger --------------------------------------------------------------------------


async def test_a_version_neutral_command_round_trips_to_the_charger(
    command_server, operator, charger
):
    async with connected(command_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        # Held until the request has answered, so the answer is 202 however fast all else is.
        cp.answering.clear()
        body = {"charger": charger.pk, "action": "reset", "arguments": {"hard": True}}
        response = await post(operator, {**body, "timeout": 10})
        assert response.status_code == 202, response.content
        cp.answering.set()
        command = await polled(operator, response["Location"])
    assert command["status"] == CommandStatus.ANSWERED
    assert command["response"] == {"status": "Accepted"}
    assert cp.received == [("Reset", {"type": "Hard"})]
    assert command["source"].startswith("api:cpms_")


async def test_a_raw_ocpp_command_round_trips_to_the_charger(command_server, operator, charger):
    async with connected(command_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        body = {
            "charger": charger.pk,
            "ocpp_action": "DataTransfer",
            "payload": {"vendorId": "com.acme", "messageId": "ping"},
        }
        response = await post(operator, body)
        command = await polled(operator, detail(response.json()["id"]))
    assert command["response"] == {"status": "Accepted", "data": "pong"}


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        ("1.6", "ReserveNow", {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z",
                               "idTag": "04A1", "reservationId": 7}),
        ("1.6", "CancelReservation", {"reservationId": 7}),
        ("2.0.1", "ReserveNow", {"id": 7, "expiryDateTime": "2030-01-01T00:00:00Z",
                                 "idToken": {"idToken": "04A1", "type": "ISO14443"}}),
        ("2.0.1", "CancelReservation", {"reservationId": 7}),
    ],
)  # fmt: skip
def test_reservations_are_not_sent_raw(operator, make_charger, tenant_a, version, action, payload):
    charger = make_charger(tenant_a, identity="CP-RAW", ocpp_version=version)

    response = operator.post(
        reverse("api:command-list"),
        {"charger": charger.pk, "ocpp_action": action, "payload": payload},
        format="json",
    )

    assert response.status_code == 400
    assert "reservations" in response.json()["error"]["fields"]["ocpp_action"][0]
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


async def test_a_charger_that_answers_too_late_reads_as_a_timeout(
    command_server, operator, charger
):
    async with connected(command_server, "tenant-a", "CP-API") as cp:
        await cp.boot()
        cp.answering.clear()
        response = await post(
            operator, {"charger": charger.pk, "action": "clear_cache", "timeout": 1, "wait": True}
        )
        assert response.status_code == 202, response.content
        command = await polled(operator, response["Location"])
        cp.answering.set()
    assert command["status"] == CommandStatus.TIMEOUT
