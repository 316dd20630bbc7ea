"""Commands from the dashboard: a page sends and answers at once, and shows the charger's answer
in its command log when it arrives (`command_outcome`, rung by `command.finished`)."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from chargers.dashboard.fleet import outcome
from chargers.models import Charger, Command, CommandStatus, OcppVersion
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet
from tests.chargers.ocpp.clients import connected

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def page(name, slug="tenant-a", **kwargs):
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


@pytest.fixture
def charger(tenant_a, site_a):
    with scoping.scope(tenant_a):
        return make_fleet(site_a)["charger"]


def made(status=CommandStatus.ANSWERED, action="Reset", payload=None, response=None, error=""):
    """An unsaved command, for the words alone."""
    return Command(
        action=action, payload=payload or {}, status=status, response=response, error=error
    )


def set_variables(*results):
    return made(
        action="SetVariables",
        payload={"setVariableData": [{**HEARTBEAT, "attributeValue": "60"}] * len(results)},
        response={"setVariableResult": [{**HEARTBEAT, **result} for result in results]},
    )


# --- The words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command,expected",
    [
        (made(CommandStatus.QUEUED), [("info", "Queued.")]),
        (made(CommandStatus.SENT), [("info", "Sent, waiting for the reply.")]),
        (made(response={"status": "Accepted"}), [("success", "The charger replied Accepted.")]),
        (made(response={"status": "Rejected"}), [("warning", "The charger replied Rejected.")]),
        (
            made(action="GetDiagnostics", response={"fileName": "diag.txt"}),
            [("success", "The charger answered.")],
        ),
        (
            made(CommandStatus.OFFLINE, error="The charger is not connected."),
            [("error", "Charger offline (The charger is not connected.).")],
        ),
        (made(CommandStatus.TIMEOUT), [("error", "No reply in time.")]),
        (
            made(action="GetBaseReport", response={"status": "Accepted"}),
            [
                ("success", "The charger replied Accepted."),
                ("info", "The charger sends its report in parts; reload in a moment."),
            ],
        ),
        (
            made(
                action="GetConfiguration",
                response={"configurationKey": [{"key": "A"}, {"key": "B"}], "unknownKey": ["X"]},
            ),
            [
                ("success", "The charger sent 2 keys; reload the configuration to see them."),
                ("warning", "Keys it does not know: X."),
            ],
        ),
        (
            set_variables(
                {"attributeStatus": "Accepted"},
                {"attributeStatus": "RebootRequired"},
                {
                    "attributeStatus": "Rejected",
                    "attributeStatusInfo": {"reasonCode": "OutOfRange"},
                },
            ),
            [
                ("success", "OCPPCommCtrlr.HeartbeatInterval: the charger replied Accepted."),
                (
                    "warning",
                    "OCPPCommCtrlr.HeartbeatInterval: the charger replied RebootRequired. "
                    "The new value applies after a reset.",
                ),
                (
                    "warning",
                    "OCPPCommCtrlr.HeartbeatInterval: the charger replied Rejected (OutOfRange).",
                ),
            ],
        ),
        (
            made(
                action="GetVariables",
                payload={"getVariableData": [HEARTBEAT]},
                response={
                    "getVariableResult": [
                        {**HEARTBEAT, "attributeStatus": "Accepted", "attributeValue": "300"}
                    ]
                },
            ),
            [
                (
                    "success",
                    "OCPPCommCtrlr.HeartbeatInterval: the charger replied Accepted, value '300'.",
                )
            ],
        ),
    ],
)
def test_an_outcome_reads_in_words(command, expected):
    assert outcome(command) == expected


# --- Sending answers at once ----------------------------------------------------------------------


# The command goes through asgiref's thread, which needs committed rows to see.
@pytest.mark.django_db(transaction=True)
def test_a_command_is_sent_without_waiting_and_the_operator_is_told_so(
    client, tenant_a, charger, olga, listening
):
    client.force_login(olga)
    response = client.post(page("charger_command", pk=charger.pk), {"action": "reset_soft"})
    assert response.status_code == 302
    assert response["Location"] == page("charger_detail", pk=charger.pk)
    with scoping.scope(tenant_a):
        command = Command.objects.get()
    assert command.status == CommandStatus.QUEUED and command.requested_by == olga
    detail = client.get(response["Location"]).content.decode()
    assert "Reset sent; the charger&#x27;s answer shows in the command log as it arrives." in detail
    outcome_url = page("command_outcome", pk=command.pk)
    assert f'data-command="{command.pk}" data-pending="{outcome_url}"' in detail


@pytest.mark.django_db(transaction=True)
def test_a_device_model_change_is_sent_without_waiting(client, tenant_a, charger, olga, listening):
    with scoping.scope(tenant_a):
        Charger.objects.filter(pk=charger.pk).update(ocpp_version=OcppVersion.V201)
    client.force_login(olga)
    form = {
        "component": "OCPPCommCtrlr",
        "variable": "HeartbeatInterval",
        "attribute_type": "Actual",
        "value": "60",
    }
    response = client.post(page("charger_configuration", pk=charger.pk), form, follow=True)
    assert b"SetVariables sent" in response.content
    with scoping.scope(tenant_a):
        command = Command.objects.get()
    assert command.action == "SetVariables" and command.status == CommandStatus.QUEUED
    # The configuration page's own log follows it.
    assert f'data-pending="{page("command_outcome", pk=command.pk)}"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_configuration_read_is_sent_without_waiting(client, tenant_a, charger, olga, listening):
    client.force_login(olga)
    response = client.post(
        page("charger_configuration", pk=charger.pk), {"refresh": "1"}, follow=True
    )
    assert b"GetConfiguration sent" in response.content
    with scoping.scope(tenant_a):
        assert Command.objects.get().status == CommandStatus.QUEUED


# --- The outcome, read by the page ----------------------------------------------------------------


def stored(tenant, charger, **fields) -> Command:
    with scoping.scope(tenant):
        return Command.objects.create(charger=charger, **fields)


def test_the_outcome_of_a_command_is_read_in_words(client, tenant_a, charger, bob):
    command = stored(
        tenant_a,
        charger,
        action="ChangeConfiguration",
        payload={"key": "HeartbeatInterval", "value": "60"},
        status=CommandStatus.ANSWERED,
        response={"status": "RebootRequired"},
    )
    client.force_login(bob)
    body = client.get(page("command_outcome", pk=command.pk)).json()
    assert body == {
        "id": command.pk,
        "charger_id": charger.pk,
        "action": "ChangeConfiguration",
        "status": "answered",
        "finished": True,
        "duration_ms": None,
        "outcome": [{"level": "warning", "text": "The charger replied RebootRequired."}],
    }


def test_a_pending_command_reads_as_not_finished(client, tenant_a, charger, bob):
    command = stored(tenant_a, charger, action="Reset", status=CommandStatus.SENT)
    client.force_login(bob)
    body = client.get(page("command_outcome", pk=command.pk)).json()
    assert body["finished"] is False and body["status"] == "sent"


def test_charlie_gets_404_for_a_tenant_a_command_from_his_own_slug(
    client, tenant_a, charger, charlie
):
    command = stored(tenant_a, charger, action="Reset")
    client.force_login(charlie)
    assert client.get(page("command_outcome", slug="tenant-b", pk=command.pk)).status_code == 404


def test_a_site_owner_cannot_read_command_outcomes(client, tenant_a, charger, paula):
    command = stored(tenant_a, charger, action="Reset")
    client.force_login(paula)
    assert client.get(page("command_outcome", pk=command.pk)).status_code == 403


def test_the_command_log_shows_each_variables_answer(client, tenant_a, charger, bob):
    stored(
        tenant_a,
        charger,
        action="SetVariables",
        payload={"setVariableData": [{**HEARTBEAT, "attributeValue": "60"}]},
        status=CommandStatus.ANSWERED,
        response={"setVariableResult": [{**HEARTBEAT, "attributeStatus": "Rejected"}]},
    )
    client.force_login(bob)
    body = client.get(page("charger_detail", pk=charger.pk)).content.decode()
    assert "OCPPCommCtrlr.HeartbeatInterval: the charger replied Rejected." in body
    assert "data-pending" not in body


# --- With a real charger --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_page_answers_while_the_charger_still_thinks_and_shows_its_reply_later(
    command_server,
    make_charger,
    client,
    tenant_a,
    olga,
    finished_outcome,
):
    charger = await sync_to_async(make_charger)(tenant_a, identity="CP-SLOW")
    await sync_to_async(client.force_login)(olga)
    post, get = sync_to_async(client.post), sync_to_async(client.get)
    async with connected(command_server, "tenant-a", "CP-SLOW") as cp:
        await cp.boot()
        cp.answering.clear()
        response = await post(page("charger_command", pk=charger.pk), {"action": "clear_cache"})
        assert response.status_code == 302
        with scoping.scope(tenant_a):
            command = await sync_to_async(Command.objects.get)()
        url = page("command_outcome", pk=command.pk)
        assert (await get(url)).json()["finished"] is False
        cp.answering.set()
        body = await finished_outcome(client, url)
    assert body["status"] == CommandStatus.ANSWERED
    assert body["outcome"] == [{"level": "success", "text": "The charger replied Accepted."}]
    assert cp.received == [("ClearCache", {})]
