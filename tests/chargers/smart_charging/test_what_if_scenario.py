"""The what-if's problem and what it shows (chargers/smart_charging/what_if.py): pure."""

from datetime import UTC, datetime

import pytest

from chargers.smart_charging.allocation import (
    Connector,
    History,
    LimitChange,
    Node,
    Problem,
    Session,
    allocate,
)
from chargers.smart_charging.what_if import Ev, outcome, places, scenario

GRID = Node("grid", "grid connection", 32.0)
BOARD = Node("c1", "Board", 20.0, phases=("L2",), parent="grid")
BAY = Node("c2", "Bay", 16.0, parent="c1", phases=("L2",))
SITE = Problem(
    nodes=[GRID, BAY, BOARD],
    connectors=[Connector("7/1", "grid", max_a=16.0), Connector("8/1", "c1", phases=("L2",))],
    sessions=[Session("8/1", session_id=80, draw_a=10.0)],
    history=History(limits={"8/1": 12.0}, charging_since={"8/1": 0.0}),
    changes=[LimitChange(3600, {"grid": 20.0})],
)


@pytest.mark.parametrize(
    ("ev", "connector"),
    [
        # On a connector: the EV's phases and currents, within the connector's maximum.
        (Ev("EV 1", connector="7/1", phases=("L1",), min_a=8.0, max_a=32.0),
         Connector("7/1", "grid", ("L1",), 8.0, 16.0)),
        (Ev("EV 1", connector="7/1", max_a=10.0), Connector("7/1", "grid", max_a=10.0)),
        # Below a node: a connector of its own.
        (Ev("EV 1", node="c1", phases=("L2",), max_a=16.0),
         Connector("what-if:EV 1", "c1", ("L2",), 6.0, 16.0)),
    ],
)  # fmt: skip
def test_an_ev_charges_on_its_place_with_its_own_currents(ev, connector):
    problem = scenario(SITE, [ev], keep_sessions=False)
    assert connector in problem.connectors
    assert [s.connector for s in problem.sessions] == [connector.key]


def test_without_the_current_sessions_nothing_of_the_last_plan_counts():
    problem = scenario(SITE, [Ev("EV 1", node="grid")], keep_sessions=False)
    assert [s.connector for s in problem.sessions] == ["what-if:EV 1"]
    assert problem.history == History()


def test_with_the_current_sessions_the_last_plan_counts_too():
    problem = scenario(SITE, [Ev("EV 1", node="grid")], keep_sessions=True)
    assert [s.connector for s in problem.sessions] == ["8/1", "what-if:EV 1"]
    assert problem.history == SITE.history


def test_another_grid_limit_replaces_the_limit_and_the_changes_ahead():
    problem = scenario(SITE, [], keep_sessions=True, grid_limit_a=50.0)
    assert [n.limit_a for n in problem.nodes] == [50.0, 16.0, 20.0]
    assert problem.changes == ()
    assert scenario(SITE, [], keep_sessions=True).changes == SITE.changes


def test_places_are_each_connector_and_a_new_one_below_each_node():
    found = places(SITE, {"7/1": "CP-7 · EVSE 1"}, {"grid": "grid connection"}, min_a=6, max_a=32)
    assert {value: (p.label, p.connector, p.node, p.phases) for value, p in found.items()} == {
        "connector:7/1": ("CP-7 · EVSE 1", "7/1", "grid", ("L1", "L2", "L3")),
        "connector:8/1": ("8/1", "8/1", "c1", ("L2",)),
        "node:grid": ("A new charger on grid connection", None, "grid", ("L1", "L2", "L3")),
        "node:c2": ("A new charger on Bay", None, "c2", ("L2",)),
        "node:c1": ("A new charger on Board", None, "c1", ("L2",)),
    }


def test_the_outcome_lists_the_evs_in_the_order_given_and_the_nodes_as_a_tree():
    evs = [Ev("EV 1", node="c2", phases=("L2",)), Ev("EV 2", connector="7/1")]
    problem = scenario(SITE, evs, keep_sessions=True)
    plan = allocate(problem)
    labels = {"what-if:EV 1": "EV 1", "7/1": "EV 2", "8/1": "CP-8 (charging now)"}
    at = datetime(2026, 3, 2, 16, tzinfo=UTC)
    shown = outcome(problem, plan, labels, {}, now=at, zone=UTC, no_limit_a=32.0)
    assert [ev["label"] for ev in shown["evs"]] == ["EV 1", "EV 2", "CP-8 (charging now)"]
    by_key = plan.by_connector()
    assert [(ev["limit_a"], ev["reason"]) for ev in shown["evs"]] == [
        (by_key[key].limit_a, by_key[key].reason) for key in labels
    ]
    # The grid's 20 A from 17:00 lowers EV 2's limit then.
    assert shown["evs"][1]["later"] == [
        (datetime(2026, 3, 2, 17, tzinfo=UTC), by_key["7/1"].periods[1][1])
    ]
    assert [(n["name"], n["depth"], n["limit_a"]) for n in shown["nodes"]] == [
        ("grid connection", 0, None),  # 32 A stands for no limit here
        ("Board", 1, 20.0),
        ("Bay", 2, 16.0),
    ]
    assert shown["nodes"][2]["load"] == [("L1", None), ("L2", plan.load["c2"]["L2"]), ("L3", None)]
