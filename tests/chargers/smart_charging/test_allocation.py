"""The allocator: table-driven cases, and its promises as properties over random trees."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chargers.smart_charging.allocation import (
    PHASES,
    STEP,
    Connector,
    History,
    LimitChange,
    Node,
    Problem,
    ProblemError,
    Session,
    Settings,
    allocate,
)

GRID = Node("grid", "Grid", 32.0)


def charging(n, node="grid", **connector):
    connectors = [Connector(f"c{i}", node, **connector) for i in range(n)]
    return connectors, [Session(f"c{i}", session_id=i) for i in range(n)]


def limits(plan):
    return {a.connector: a.limit_a for a in plan.allocations}


# --- cases ------------------------------------------------------------------------------------


def test_six_evs_on_32_a_get_their_minimum_and_one_waits():
    connectors, sessions = charging(6)
    plan = allocate(Problem([GRID], connectors, sessions))
    assert sorted(limits(plan).values()) == [0.0, 6.4, 6.4, 6.4, 6.4, 6.4]
    paused = [a for a in plan.allocations if a.paused]
    assert len(paused) == 1
    assert paused[0].reason.startswith("paused: Grid at 32 A cannot give 6 A")


def test_the_reason_names_the_circuit_the_sharing_and_the_priority():
    nodes = [Node("grid", "Grid", 100.0), Node("b", "circuit B", 63.0, parent="grid")]
    connectors, sessions = charging(6, node="b")
    sessions[0] = Session("c0", session_id=0, priority=1, priority_label="fleet")
    plan = allocate(Problem(nodes, connectors, sessions))
    assert plan.by_connector()["c0"].reason == (
        "limited to 10.5 A: circuit B at 63 A shared by 6 sessions; priority fleet"
    )


def test_an_ev_alone_gets_its_maximum():
    connectors, sessions = charging(1, max_a=16.0)
    plan = allocate(Problem([GRID], connectors, sessions))
    assert limits(plan) == {"c0": 16.0}
    assert plan.allocations[0].reason == "at its maximum 16 A"


def test_current_an_ev_leaves_unused_goes_to_the_others():
    connectors, _ = charging(2)
    sessions = [Session("c0", draw_a=4.0), Session("c1", draw_a=15.9)]
    history = History(limits={"c0": 16.0, "c1": 16.0}, charging_since={"c0": 0, "c1": 0})
    plan = allocate(Problem([GRID], connectors, sessions, history=history, now=60))
    assert limits(plan) == {"c0": 6.0, "c1": 26.0}
    assert plan.by_connector()["c0"].reason.startswith("limited to 6 A: drawing 4 A")


def test_a_small_increase_is_held_back_and_a_decrease_applies():
    connectors, sessions = charging(2)
    held = History(limits={"c0": 15.5, "c1": 15.5}, charging_since={"c0": 0, "c1": 0})
    plan = allocate(Problem([GRID], connectors, sessions, history=held))
    assert limits(plan) == {"c0": 15.5, "c1": 15.5}
    assert plan.allocations[0].binding == "hysteresis"
    over = History(limits={"c0": 16.5, "c1": 16.5}, charging_since={"c0": 0, "c1": 0})
    plan = allocate(Problem([GRID], connectors, sessions, history=over))
    assert limits(plan) == {"c0": 16.0, "c1": 16.0}


def test_a_single_phase_charger_loads_only_its_phase():
    connectors = [
        Connector("a", "grid", phases=("L1",)),
        Connector("b", "grid", phases=("L1",)),
        Connector("c", "grid", phases=("L2",)),
    ]
    sessions = [Session("a"), Session("b"), Session("c")]
    plan = allocate(Problem([GRID], connectors, sessions))
    assert limits(plan) == {"a": 16.0, "b": 16.0, "c": 32.0}
    assert plan.load["grid"] == {"L1": 32.0, "L2": 32.0, "L3": 0.0}


def test_a_charger_that_does_not_obey_is_counted_at_its_maximum():
    connectors, _ = charging(2)
    sessions = [Session("c0", fixed_a=32.0), Session("c1")]
    plan = allocate(Problem([GRID], connectors, sessions))
    assert plan.by_connector()["c1"].paused
    assert plan.by_connector()["c0"].reason == "does not follow its limit: counted at 32 A"


def test_priority_sharing_fills_the_higher_tier_first():
    connectors, _ = charging(3)
    sessions = [Session("c0", priority=2), Session("c1"), Session("c2")]
    plan = allocate(Problem([GRID], connectors, sessions, settings=Settings(sharing="priority")))
    assert limits(plan) == {"c0": 20.0, "c1": 6.0, "c2": 6.0}


def test_need_sharing_gives_in_proportion_to_the_current_needed():
    connectors, _ = charging(2)
    sessions = [Session("c0", need_a=30.0), Session("c1", need_a=10.0)]
    plan = allocate(Problem([GRID], connectors, sessions, settings=Settings(sharing="need")))
    # 20 A above the minimums, split 3:1.
    assert limits(plan) == {"c0": 21.0, "c1": 11.0}


def test_a_lower_limit_later_in_the_horizon_is_in_the_schedule_and_the_fallback():
    connectors, sessions = charging(2)
    change = LimitChange(offset_s=1800, limits={"grid": 20.0})
    plan = allocate(Problem([GRID], connectors, sessions, changes=[change]))
    assert plan.by_connector()["c0"].periods == ((0.0, 16.0), (1800.0, 10.0))
    assert plan.fallback == {"c0": 10.0, "c1": 10.0}


def test_the_fallback_splits_each_node_over_every_connector_below_it():
    nodes = [GRID, Node("b", "B", 10.0, parent="grid")]
    connectors = [Connector("x", "b"), Connector("y", "b"), Connector("z", "grid", max_a=16)]
    plan = allocate(Problem(nodes, connectors, []))
    assert plan.fallback == {"x": 5.0, "y": 5.0, "z": 10.6}


@pytest.mark.parametrize(
    "nodes",
    [
        [Node("a", "A", 10), Node("b", "B", 10)],
        [Node("a", "A", 10, parent="b"), Node("b", "B", 10, parent="a")],
        [GRID, Node("b", "B", 10, parent="nowhere")],
    ],
    ids=["two roots", "a cycle", "unknown parent"],
)
def test_a_tree_that_is_not_one_is_refused(nodes):
    with pytest.raises(ProblemError):
        allocate(Problem(nodes, [], []))


# --- properties -------------------------------------------------------------------------------


@st.composite
def problems(draw, with_history=False):
    circuits = draw(st.integers(0, 4))
    nodes = [Node("grid", "Grid", draw(st.integers(0, 120)) * 1.0)]
    for i in range(circuits):
        parent = draw(st.sampled_from([n.id for n in nodes]))
        phases = draw(st.sampled_from([PHASES, ("L1",), ("L2",), ("L3",)]))
        limit = draw(st.integers(0, 80)) + draw(st.sampled_from([0.0, 0.5]))
        nodes.append(Node(f"n{i}", f"circuit {i}", limit, phases=phases, parent=parent))
    connectors, sessions = [], []
    for i in range(draw(st.integers(0, 12))):
        node = draw(st.sampled_from(nodes))
        phases = draw(st.sampled_from([PHASES, ("L1",), ("L2",), ("L3",)]))
        max_a = draw(st.sampled_from([10.0, 16.0, 32.0]))
        connectors.append(Connector(f"c{i:02}", node.id, phases=phases, max_a=max_a))
        if draw(st.booleans()):
            sessions.append(
                Session(
                    f"c{i:02}",
                    session_id=i,
                    priority=draw(st.integers(0, 2)),
                    draw_a=draw(st.none() | st.floats(0, 40)),
                    need_a=draw(st.none() | st.floats(0, 40)),
                    fixed_a=draw(st.none() | st.just(max_a)) if draw(st.booleans()) else None,
                )
            )
    history = History()
    if with_history:
        history = History(
            limits={s.connector: draw(st.floats(0, 32)) for s in sessions},
            charging_since={s.connector: 0.0 for s in sessions},
        )
    sharing = draw(st.sampled_from(["equal", "priority", "need"]))
    return Problem(nodes, connectors, sessions, settings=Settings(sharing=sharing), history=history)


def node_phase_usage(problem, plan):
    by_id = {n.id: n for n in problem.nodes}
    connectors = {c.key: c for c in problem.connectors}
    allocation = plan.by_connector()
    usage = {}
    for session in problem.sessions:
        connector = connectors[session.connector]
        amount = (
            session.fixed_a if session.fixed_a is not None else allocation[connector.key].limit_a
        )
        node = by_id[connector.node]
        while node is not None:
            for phase in connector.phases:
                usage.setdefault((node.id, phase), []).append((session, amount))
            node = by_id.get(node.parent) if node.parent else None
    return usage


def capacity(node, phase):
    return node.limit_a if phase in node.phases else 0.0


@settings(max_examples=300, deadline=None)
@given(problems(with_history=True))
def test_per_phase_at_every_node_the_sum_never_exceeds_the_limit(problem):
    plan = allocate(problem)
    by_id = {n.id: n for n in problem.nodes}
    for (node_id, phase), users in node_phase_usage(problem, plan).items():
        steered = sum(a for s, a in users if s.fixed_a is None)
        fixed = sum(a for s, a in users if s.fixed_a is not None)
        # What follows a limit fits beside what does not, unless that alone is over.
        assert steered == 0 or steered + fixed <= capacity(by_id[node_id], phase) + 1e-6


@settings(max_examples=300, deadline=None)
@given(problems(with_history=True))
def test_every_session_is_at_its_minimum_or_paused(problem):
    plan = allocate(problem)
    connectors = {c.key: c for c in problem.connectors}
    for allocation in plan.allocations:
        if allocation.paused:
            assert allocation.limit_a == 0
        elif allocation.binding != "fixed":
            connector = connectors[allocation.connector]
            assert allocation.limit_a >= min(connector.min_a, connector.max_a)
            assert allocation.limit_a <= connector.max_a


@settings(max_examples=300, deadline=None)
@given(problems())
def test_no_current_is_left_unused_while_an_ev_could_take_more(problem):
    plan = allocate(problem)
    by_id = {n.id: n for n in problem.nodes}
    connectors = {c.key: c for c in problem.connectors}
    usage = node_phase_usage(problem, plan)
    for allocation in plan.allocations:
        if allocation.binding == "fixed":
            continue
        connector = connectors[allocation.connector]
        if not allocation.paused and allocation.limit_a >= connector.max_a - 1e-9:
            continue
        # Below its maximum (or paused): some node phase it draws on is full, up to rounding.
        node, tight = by_id[connector.node], False
        want = min(connector.min_a, connector.max_a) if allocation.paused else 0.0
        while node is not None and not tight:
            for phase in connector.phases:
                users = usage[(node.id, phase)]
                spare = capacity(node, phase) - sum(a for _, a in users)
                if spare < want + STEP * len(users) + 1e-6:
                    tight = True
            node = by_id.get(node.parent) if node.parent else None
        assert tight, allocation


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), st.integers(1, 8))
def test_paused_sessions_take_turns_under_sustained_scarcity(fitting, extra):
    """Room for `fitting` minimums and `fitting + extra` EVs: replanned every turn, every
    EV charges within a bounded number of turns, and none is paused twice in a row while
    another never waited."""
    total = fitting + extra
    connectors, sessions = charging(total, min_a=6.0)
    grid = Node("grid", "Grid", 6.0 * fitting + 3.0)
    turn = Settings().turn_s
    history, charged = History(), set()
    rounds = -(-total // fitting) + 1
    for step in range(rounds):
        plan = allocate(Problem([grid], connectors, sessions, now=step * turn, history=history))
        admitted = {a.connector for a in plan.allocations if not a.paused}
        assert len(admitted) == fitting
        charged |= admitted
        history = plan.history
    assert charged == {c.key for c in connectors}


def test_turns_are_not_taken_before_a_turn_has_passed():
    connectors, sessions = charging(3)
    grid = Node("grid", "Grid", 12.0)
    first = allocate(Problem([grid], connectors, sessions, now=0))
    again = allocate(Problem([grid], connectors, sessions, now=60, history=first.history))
    assert limits(first) == limits(again)
    later = allocate(Problem([grid], connectors, sessions, now=1000, history=again.history))
    assert limits(later) != limits(again)
