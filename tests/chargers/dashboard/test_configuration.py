"""The configuration page: 1.6 keys and the 2.0.1 device model, read and changed in a browser."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from chargers.models import (
    Charger,
    Command,
    CommandStatus,
    DeviceModelVariable,
    OcppVersion,
)
from chargers.ocpp.readers import reply_facts
from chargers.services.device_model import device_model_values_store
from cpms.tenancy import scoping
from tests.chargers.factories import make_fleet
from tests.chargers.ocpp.clients201 import REPLIES, connected201

HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def page(pk, slug="tenant-a"):
    return reverse("charger_configuration", kwargs={"tenant_slug": slug, "pk": pk})


@pytest.fixture
def charger201(tenant_a, site_a):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a, identity="CP-201")["charger"]
        Charger.objects.filter(pk=charger.pk).update(
            ocpp_version=OcppVersion.V201, is_online=False, channel_name=""
        )
        DeviceModelVariable.objects.create(
            charger=charger,
            component="OCPPCommCtrlr",
            variable="HeartbeatInterval",
            value="300",
            mutability="ReadWrite",
        )
        DeviceModelVariable.objects.create(
            charger=charger,
            component="EVSE",
            evse_id=1,
            variable="Power",
            attribute_type="MaxSet",
            value="22000",
            mutability="ReadOnly",
        )
        charger.refresh_from_db()
        return charger


def stored(tenant, **identity):
    with scoping.scope(tenant):
        return DeviceModelVariable.objects.get(**identity).value


# --- The page, per role ---------------------------------------------------------------------------


def test_the_device_model_is_listed_with_a_change_link_for_writable_variables(
    client, charger201, olga
):
    client.force_login(olga)
    body = client.get(page(charger201.pk)).content.decode()
    assert "HeartbeatInterval" in body and "(EVSE 1)" in body and "(MaxSet)" in body
    assert body.count(">Change</a>") == 1
    assert "Set a variable" in body


def test_the_change_link_fills_the_form_with_the_variable(client, tenant_a, charger201, olga):
    with scoping.scope(tenant_a):
        heartbeat = DeviceModelVariable.objects.get(variable="HeartbeatInterval")
    client.force_login(olga)
    form = client.get(page(charger201.pk), {"variable": heartbeat.pk}).context["form"]
    assert form.initial["component"] == "OCPPCommCtrlr"
    assert form.initial["variable"] == "HeartbeatInterval" and form.initial["value"] == "300"


def test_bob_the_viewer_sees_the_variables_but_no_form(client, charger201, bob):
    client.force_login(bob)
    body = client.get(page(charger201.pk)).content.decode()
    assert "HeartbeatInterval" in body
    assert "Set a variable" not in body and ">Change</a>" not in body


def test_bob_the_viewer_cannot_set_a_variable(client, tenant_a, charger201, bob):
    client.force_login(bob)
    response = client.post(
        page(charger201.pk),
        {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"},
    )
    assert response.status_code == 403
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_charlie_gets_404_for_the_device_model_and_cannot_set_it(
    client, tenant_a, charger201, charlie
):
    client.force_login(charlie)
    form = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"}
    for slug in ("tenant-a", "tenant-b"):
        assert client.get(page(charger201.pk, slug)).status_code == 404
        assert client.post(page(charger201.pk, slug), form).status_code == 404
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_a_connector_without_an_evse_is_refused_naming_the_field(
    client, tenant_a, charger201, olga
):
    client.force_login(olga)
    response = client.post(
        page(charger201.pk),
        {
            "component": "Connector",
            "connector_id": "2",
            "variable": "Enabled",
            "attribute_type": "Actual",
            "value": "false",
        },
    )
    assert response.status_code == 200
    assert "connector: a connector is numbered within an EVSE" in response.content.decode()
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_a_missing_variable_name_is_refused_naming_the_field(client, tenant_a, charger201, olga):
    client.force_login(olga)
    response = client.post(page(charger201.pk), {"component": "OCPPCommCtrlr", "value": "60"})
    assert response.context["form"].errors["variable"]
    with scoping.scope(tenant_a):
        assert not Command.objects.exists()


def test_a_16_charger_keeps_its_key_form(client, tenant_a, site_a, olga):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
    client.force_login(olga)
    response = client.get(page(charger.pk))
    assert "key" in response.context["form"].fields
    assert b"Change a key" in response.content


# The command goes through asgiref's thread, which needs committed rows to see.
@pytest.mark.django_db(transaction=True)
def test_setting_a_variable_sends_set_variables_with_its_evse_and_attribute(
    client, tenant_a, charger201, olga
):
    client.force_login(olga)
    response = client.post(
        page(charger201.pk),
        {
            "component": "EVSE",
            "evse_id": "1",
            "variable": "Power",
            "attribute_type": "MaxSet",
            "value": "11000",
        },
        follow=True,
    )
    assert b"SetVariables: Charger offline" in response.content
    with scoping.scope(tenant_a):
        command = Command.objects.get()
    assert command.action == "SetVariables" and command.requested_by == olga
    assert command.payload == {
        "setVariableData": [
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "attributeValue": "11000",
                "attributeType": "MaxSet",
            }
        ]
    }
    assert stored(tenant_a, variable="Power") == "22000"


# --- What a SetVariables reply teaches ------------------------------------------------------------


def set_reply(charger, status, variable=HEARTBEAT, value="60"):
    facts = reply_facts(
        "SetVariables",
        {"setVariableData": [{**variable, "attributeValue": value}]},
        {"setVariableResult": [{**variable, "attributeStatus": status}]},
    )
    device_model_values_store(charger_id=charger.pk, values=list(facts.values))


def test_an_accepted_set_variables_updates_the_stored_value(tenant_a, charger201):
    with scoping.scope(tenant_a):
        set_reply(charger201, "Accepted")
    assert stored(tenant_a, variable="HeartbeatInterval") == "60"


@pytest.mark.parametrize("status", ["Rejected", "RebootRequired", "UnknownVariable"])
def test_a_refused_set_variables_keeps_the_stored_value(tenant_a, charger201, status):
    with scoping.scope(tenant_a):
        set_reply(charger201, status)
    assert stored(tenant_a, variable="HeartbeatInterval") == "300"


def test_an_accepted_password_is_never_stored_as_a_variable(tenant_a, charger201):
    secret = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    with scoping.scope(tenant_a):
        set_reply(charger201, "Accepted", variable=secret, value="new-password-000000042")
        assert not DeviceModelVariable.objects.filter(variable="BasicAuthPassword").exists()


# --- With a real 2.0.1 charger --------------------------------------------------------------------


@sync_to_async
def post_heartbeat_form(client, user, charger, **fields):
    """The variable form of `charger`'s page, for OCPPCommCtrlr.HeartbeatInterval's actual
    value, posted by `user` with `fields`."""
    client.force_login(user)
    form = {
        "component": "OCPPCommCtrlr",
        "variable": "HeartbeatInterval",
        "attribute_type": "Actual",
    }
    return client.post(page(charger.pk), {**form, **fields})


async def outcome_and_page(client, tenant, charger, read) -> tuple[dict, str]:
    """The outcome of the command sent from the page, once finished, and the page shown then."""
    with scoping.scope(tenant):
        command = await sync_to_async(Command.objects.get)(charger=charger, source="dashboard")
    url = reverse("command_outcome", kwargs={"tenant_slug": "tenant-a", "pk": command.pk})
    body = await read(client, url)
    return body, (await sync_to_async(client.get)(page(charger.pk))).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["Accepted", "Rejected"])
async def test_a_real_201_charger_answers_per_variable_and_the_page_shows_it(
    command_server,
    make_charger,
    client,
    tenant_a,
    olga,
    monkeypatch,
    finished_outcome,
    status,
):
    reply = {"set_variable_result": [{"attribute_status": status, **HEARTBEAT}]}
    monkeypatch.setitem(REPLIES, "SetVariables", reply)
    charger = await sync_to_async(make_charger)(tenant_a, identity="CP-REAL")
    async with connected201(command_server, "tenant-a", "CP-REAL") as cp:
        await cp.boot()
        with scoping.scope(tenant_a):
            await sync_to_async(DeviceModelVariable.objects.create)(
                charger=charger,
                component="OCPPCommCtrlr",
                variable="HeartbeatInterval",
                value="300",
            )
        response = await post_heartbeat_form(client, olga, charger, value="60")
        assert response.status_code == 302
        outcome, body = await outcome_and_page(client, tenant_a, charger, finished_outcome)
    text = f"OCPPCommCtrlr.HeartbeatInterval: the charger replied {status}."
    assert outcome["outcome"] == [
        {"level": "success" if status == "Accepted" else "warning", "text": text}
    ]
    # The page's command log says it in the same words.
    assert text in body
    assert cp.received[-1] == (
        "SetVariables",
        {
            "set_variable_data": [
                {
                    "attribute_value": "60",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
    )
    with scoping.scope(tenant_a):
        command = await sync_to_async(Command.objects.get)(action="SetVariables")
    value = await sync_to_async(stored)(tenant_a, variable="HeartbeatInterval")
    assert command.status == CommandStatus.ANSWERED
    assert value == ("60" if status == "Accepted" else "300")
    # The table's "Last change" column carries the reply too.
    assert f"<strong>{status}</strong>" in body


# --- 1.6 keys -------------------------------------------------------------------------------------


@pytest.fixture
def charger16(tenant_a, site_a):
    with scoping.scope(tenant_a):
        charger = make_fleet(site_a)["charger"]
        Command.objects.create(
            charger=charger,
            action="GetConfiguration",
            status=CommandStatus.ANSWERED,
            response={
                "configurationKey": [
                    {"key": "HeartbeatInterval", "value": "300", "readonly": False},
                    {"key": "NumberOfConnectors", "value": "2", "readonly": True},
                ]
            },
        )
        Command.objects.create(
            charger=charger,
            action="ChangeConfiguration",
            payload={"key": "HeartbeatInterval", "value": "60"},
            status=CommandStatus.ANSWERED,
            response={"status": "RebootRequired"},
        )
        return charger


def test_a_16_keys_change_link_fills_the_form_and_read_only_keys_have_none(client, charger16, olga):
    client.force_login(olga)
    body = client.get(page(charger16.pk)).content.decode()
    assert body.count(">Change</a>") == 1 and "?key=HeartbeatInterval#change" in body
    form = client.get(page(charger16.pk), {"key": "HeartbeatInterval"}).context["form"]
    assert form.initial == {"key": "HeartbeatInterval", "value": "300"}
    assert (
        client.get(page(charger16.pk), {"key": "NumberOfConnectors"}).context["form"].initial == {}
    )


def test_a_16_keys_last_change_shows_the_chargers_reply(client, charger16, bob):
    client.force_login(bob)
    body = client.get(page(charger16.pk)).content.decode()
    assert "<strong>RebootRequired</strong>" in body and ">Change</a>" not in body


def test_the_device_model_is_searchable_by_component_or_variable(client, charger201, bob):
    client.force_login(bob)
    found = client.get(page(charger201.pk), {"q": "commctrl"}).context["variables"]
    assert [v.variable for v in found] == ["HeartbeatInterval"]
    none = client.get(page(charger201.pk), {"q": "nothing-like-it"})
    assert none.context["variables"] == [] and b"No variable matches" in none.content


@pytest.mark.django_db(transaction=True)
async def test_reading_a_variable_asks_a_real_201_charger_and_stores_its_value(
    command_server,
    make_charger,
    client,
    tenant_a,
    olga,
    finished_outcome,
):
    charger = await sync_to_async(make_charger)(tenant_a, identity="CP-READ")
    with scoping.scope(tenant_a):
        await sync_to_async(DeviceModelVariable.objects.create)(
            charger=charger, component="OCPPCommCtrlr", variable="HeartbeatInterval", value="30"
        )
    async with connected201(command_server, "tenant-a", "CP-READ") as cp:
        await cp.boot()
        response = await post_heartbeat_form(
            client, olga, charger, value="ignored when reading", read="1"
        )
        assert response.status_code == 302
        outcome, body = await outcome_and_page(client, tenant_a, charger, finished_outcome)
    said = "OCPPCommCtrlr.HeartbeatInterval: the charger replied Accepted, value '300'."
    assert outcome["outcome"] == [{"level": "success", "text": said}]
    assert said.replace("'", "&#x27;") in body
    assert cp.received[-1] == (
        "GetVariables",
        {
            "get_variable_data": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    )
    value = await sync_to_async(stored)(tenant_a, variable="HeartbeatInterval")
    assert value == "300"


def test_reading_a_16_key_from_the_variable_form_is_not_offered(client, charger16, olga):
    client.force_login(olga)
    assert b"Read its value now" not in client.get(page(charger16.pk)).content
