"""Get/SetVariables and GetReport split by the charger's ItemsPerMessage and BytesPerMessage:
the split itself, and a real charger over a socket that is sent the parts and whose answers
make one command outcome."""

import pytest
from asgiref.sync import sync_to_async
from ocpp.routing import on

from chargers.commands import asend_command
from chargers.models import CommandStatus, DeviceModelVariable
from chargers.ocpp import batches
from chargers.ocpp.readers import reply_facts, variable_results
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients201 import TestCharger201, connected201


def variable(number: int) -> dict:
    return {"component": {"name": "Ctrlr"}, "variable": {"name": f"Var{number}"}}


def asked(count: int) -> dict:
    return {"getVariableData": [variable(n) for n in range(count)]}


def test_a_command_within_the_limits_is_one_message():
    assert batches.split("GetVariables", asked(3), items=3) == [asked(3)]
    assert batches.split("GetVariables", asked(3), items=None) == [asked(3)]
    assert batches.split("Reset", {"type": "Immediate"}, items=1) == [{"type": "Immediate"}]


def test_more_items_than_the_charger_takes_are_split_in_order():
    parts = batches.split("GetVariables", asked(5), items=2)
    assert [len(part["getVariableData"]) for part in parts] == [2, 2, 1]
    assert [item for part in parts for item in part["getVariableData"]] == asked(5)[
        "getVariableData"
    ]


def test_a_byte_limit_splits_too_and_a_single_large_item_still_goes():
    parts = batches.split("GetVariables", asked(4), items=None, size=batches.FRAME_OVERHEAD + 120)
    assert len(parts) > 1
    assert all(len(part["getVariableData"]) >= 1 for part in parts)
    assert len(batches.split("GetVariables", asked(2), items=None, size=1)) == 2


def test_replies_are_merged_in_order():
    merged = batches.merge(
        "SetVariables",
        [{"setVariableResult": [{"n": 1}, {"n": 2}]}, {"setVariableResult": [{"n": 3}]}],
    )
    assert merged == {"setVariableResult": [{"n": 1}, {"n": 2}, {"n": 3}]}


def reported(count: int) -> dict:
    return {"requestId": 7, "componentVariable": [variable(n) for n in range(count)]}


def test_a_report_of_more_component_variables_than_the_charger_takes_is_split_in_order():
    parts = batches.split("GetReport", reported(5), items=2)
    assert [len(part["componentVariable"]) for part in parts] == [2, 2, 1]
    assert {part["requestId"] for part in parts} == {7}
    assert batches.split("GetReport", reported(5), items=5) == [reported(5)]
    by_criteria = {"requestId": 8, "componentCriteria": ["Problem"]}
    assert batches.split("GetReport", by_criteria, items=1) == [by_criteria]
    assert len(batches.split("GetReport", reported(3), items=None, size=1)) == 3


@pytest.mark.parametrize(
    ("statuses", "merged"),
    [
        (["Accepted", "Accepted"], "Accepted"),
        (["EmptyResultSet", "Accepted"], "Accepted"),
        (["EmptyResultSet", "EmptyResultSet"], "EmptyResultSet"),
        (["EmptyResultSet", "Rejected"], "Rejected"),
        (["NotSupported", "NotSupported"], "NotSupported"),
    ],
)
def test_a_split_reports_statuses_are_one_status(statuses, merged):
    replies = [{"status": status} for status in statuses]
    assert batches.merge("GetReport", replies) == {"status": merged}


class EchoingCharger(TestCharger201):
    """Answers every attribute it is asked for (the value: its variable's name), and
    remembers how many each message named."""

    @on("GetVariables")
    async def on_GetVariables(self, get_variable_data, **_):
        self.received.append(("GetVariables", {"get_variable_data": get_variable_data}))
        return self.results.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": item["variable"]["name"],
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in get_variable_data
            ]
        )

    @on("GetReport")
    async def on_GetReport(self, request_id, component_variable=(), **_):
        self.received.append(
            ("GetReport", {"request_id": request_id, "n": len(component_variable)})
        )
        return self.results.GetReport(
            status="EmptyResultSet" if len(self.received) == 1 else "Accepted"
        )

    @on("SetVariables")
    async def on_SetVariables(self, set_variable_data, **_):
        self.received.append(("SetVariables", {"set_variable_data": set_variable_data}))
        if len(self.received) > 1:  # the charger falls over after its first part
            raise RuntimeError("busy")
        return self.results.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in set_variable_data
            ]
        )


@sync_to_async
def limit_items(charger, action: str, items: int) -> None:
    with scoping.scope(charger.tenant):
        DeviceModelVariable.objects.create(
            tenant=charger.tenant,
            charger=charger,
            component="DeviceDataCtrlr",
            variable="ItemsPerMessage",
            variable_instance=action,
            value=str(items),
        )


@sync_to_async
def stored_values(charger) -> dict[str, str]:
    with scoping.scope(charger.tenant):
        rows = DeviceModelVariable.objects.filter(charger=charger, component="Ctrlr")
        return {row.variable: row.value for row in rows}


@pytest.mark.django_db(transaction=True)
async def test_get_variables_beyond_items_per_message_go_in_parts_and_answer_as_one(
    command_server, tenant_a, charger
):
    await limit_items(charger, "GetVariables", 2)
    async with connected201(command_server, "tenant-a", "CP-1", charger_class=EchoingCharger) as cp:
        await cp.boot()
        command = await asend_command(charger, "GetVariables", asked(5), timeout=10)
    assert [len(payload["get_variable_data"]) for _, payload in cp.received] == [2, 2, 1]
    assert command.status == CommandStatus.ANSWERED, command.error
    results = variable_results("GetVariables", command.payload, command.response)
    assert [result.value for result in results] == [f"Var{n}" for n in range(5)]
    assert await stored_values(charger) == {f"Var{n}": f"Var{n}" for n in range(5)}


@pytest.mark.django_db(transaction=True)
async def test_get_report_beyond_items_per_message_goes_in_parts_of_one_request(
    command_server, tenant_a, charger
):
    await limit_items(charger, "GetReport", 2)
    async with connected201(command_server, "tenant-a", "CP-1", charger_class=EchoingCharger) as cp:
        await cp.boot()
        command = await asend_command(charger, "GetReport", reported(5), timeout=10)
    assert cp.received == [("GetReport", {"request_id": 7, "n": n}) for n in (2, 2, 1)]
    assert command.status == CommandStatus.ANSWERED, command.error
    assert command.response == {"status": "Accepted"}
    assert command.payload == reported(5)


@pytest.mark.django_db(transaction=True)
async def test_a_part_left_unanswered_keeps_the_answered_parts_and_says_which(
    command_server, tenant_a, charger
):
    await limit_items(charger, "SetVariables", 2)
    payload = {"setVariableData": [{**variable(n), "attributeValue": str(n)} for n in range(3)]}
    async with connected201(command_server, "tenant-a", "CP-1", charger_class=EchoingCharger) as cp:
        await cp.boot()
        command = await asend_command(charger, "SetVariables", payload, timeout=10)
    assert len(cp.received) == 2
    assert command.status == CommandStatus.ANSWERED
    assert "Part 2 of 2" in command.error
    assert len(command.response["setVariableResult"]) == 2
    assert len(reply_facts("SetVariables", payload, command.response).values) == 2
    assert await stored_values(charger) == {"Var0": "0", "Var1": "1"}


def test_variable_monitoring_is_split_too():
    parts = batches.split("ClearVariableMonitoring", {"id": [1, 2, 3]}, items=2)
    assert parts == [{"id": [1, 2]}, {"id": [3]}]
    merged = batches.merge(
        "ClearVariableMonitoring",
        [{"clearMonitoringResult": [{"id": 1}, {"id": 2}]}, {"clearMonitoringResult": [{"id": 3}]}],
    )
    assert [result["id"] for result in merged["clearMonitoringResult"]] == [1, 2, 3]


@pytest.mark.django_db
def test_the_limits_are_read_from_the_right_component_and_unreadable_ones_ignored(
    tenant_a, charger
):
    with scoping.scope(tenant_a):
        for component, variable, instance, value in (
            ("MonitoringCtrlr", "ItemsPerMessage", "SetVariableMonitoring", "4"),
            ("MonitoringCtrlr", "BytesPerMessage", "SetVariableMonitoring", "lots"),
            ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariableMonitoring", "1"),
            ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables", "0"),
        ):
            DeviceModelVariable.objects.create(
                tenant=tenant_a,
                charger=charger,
                component=component,
                variable=variable,
                variable_instance=instance,
                value=value,
            )
        assert batches.message_limits(charger_id=charger.pk, action="SetVariableMonitoring") == (
            4,
            None,
        )
        assert batches.message_limits(charger_id=charger.pk, action="GetVariables") == (
            None,
            None,
        )
        assert batches.message_limits(charger_id=charger.pk, action="Reset") == (None, None)
