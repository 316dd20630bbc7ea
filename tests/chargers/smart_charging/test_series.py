"""The load chart's arithmetic (chargers/smart_charging/series.py): table-driven."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chargers.smart_charging.series import WINDOWS, Buckets, carried, chart, has_data, held_sums

MINUTE = timedelta(minutes=1)


def at(hour, minute, second=0, microsecond=0):
    return datetime(2026, 3, 2, hour, minute, second, microsecond, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "window", "start", "count", "lead"),
    [
        # The last interval holds `now`; a reading holds 15 minutes, so that many lead in.
        (at(12, 2, 30), "1h", at(11, 3), 60, 15),
        (at(12, 3), "1h", at(11, 3), 60, 15),  # on a boundary: the interval ending now
        (at(12, 3, 0, 1), "1h", at(11, 4), 60, 15),
        (at(12, 2, 30), "6h", at(6, 5), 72, 3),
        (at(12, 2, 30), "24h", at(12, 15) - timedelta(days=1), 96, 1),
        (at(12, 2, 30), "7d", at(13, 0) - timedelta(days=7), 168, 1),
    ],
)
def test_a_window_is_cut_into_intervals_aligned_to_their_size(now, window, start, count, lead):
    buckets = Buckets.ending(now, WINDOWS[window].span, WINDOWS[window].size)
    assert (buckets.start, buckets.count, buckets.lead) == (start, count, lead)
    assert buckets.end - buckets.start == WINDOWS[window].span
    assert buckets.window == range(lead, lead + count)


@pytest.mark.parametrize(
    ("moment", "index"),
    [(at(10, 48), 0), (at(11, 2, 59), 14), (at(11, 3), 15), (at(12, 2, 59), 74)],
)
def test_a_moment_falls_in_the_interval_counted_from_the_origin(moment, index):
    buckets = Buckets.ending(at(12, 2, 30), WINDOWS["1h"].span, MINUTE)
    assert buckets.origin == at(10, 48)
    assert buckets.index(moment) == index


def test_each_interval_is_read_at_its_last_moment_and_the_running_one_now():
    buckets = Buckets(start=at(12, 0), size=60, count=3, lead=1)
    assert buckets.closes(at(12, 2, 30)) == [
        at(12, 0, 59, 999_999),
        at(12, 1, 59, 999_999),
        at(12, 2, 30),
    ]


THREE = Buckets(start=at(12, 0), size=60, count=3, lead=2)  # indices 2, 3, 4


@pytest.mark.parametrize(
    ("deltas", "values"),
    [
        ({}, [0.0, 0.0, 0.0]),
        ({2: 10.0}, [10.0, 10.0, 10.0]),  # from the first interval on
        ({3: 10.0, 4: -10.0}, [0.0, 10.0, 0.0]),  # for one interval
        ({0: 5.0, 3: -5.0}, [5.0, 0.0, 0.0]),  # a reading before the window holds into it
        ({0: 5.0, 1: -5.0}, [0.0, 0.0, 0.0]),  # and one that ended before it does not
        ({2: 6.4, 3: 6.4, 4: -12.8}, [6.4, 12.8, 0.0]),  # no -0.0 from float noise
        ({2: 1 / 3, 3: 1 / 3}, [0.3, 0.7, 0.7]),  # rounded to 0.1 A, summed unrounded
        ({5: 7.0}, [0.0, 0.0, 0.0]),  # after the window
    ],
)
def test_held_sums_add_up_the_deltas_from_each_index_on(deltas, values):
    assert held_sums(deltas, THREE) == values
    assert all(str(value) != "-0.0" for value in held_sums(deltas, THREE))


LOAD = {"L1": 10.0, "L2": 10.0, "L3": 10.0}
SINGLE = {"L1": 0.0, "L2": 16.04, "L3": 0.0}


@pytest.mark.parametrize(
    ("by_index", "before", "l2"),
    [
        ({}, None, [None, None, None]),  # no plan yet
        ({}, LOAD, [10.0, 10.0, 10.0]),  # the plan before the window stays in force
        ({3: SINGLE}, None, [None, 16.0, 16.0]),  # from its interval on
        ({2: SINGLE, 4: LOAD}, LOAD, [16.0, 16.0, 10.0]),
        ({3: {"L1": 4.0}}, LOAD, [10.0, None, None]),  # a phase the plan does not name
    ],
)
def test_a_plan_is_carried_until_the_next(by_index, before, l2):
    assert carried(by_index, before, THREE)["L2"] == l2


def test_the_chart_names_a_series_per_phase_and_figure_and_labels_local_times():
    data = chart(
        THREE,
        ZoneInfo("Europe/Berlin"),
        "%H:%M",
        measured={"L1": [1.0, 2.0, 3.0], "L2": [0.0] * 3, "L3": [0.0] * 3},
        planned={"L1": [None, 4.0, 4.0], "L2": [None] * 3, "L3": [None] * 3},
        limit=[32.0, 32.0, 16.0],
    )
    assert data["labels"] == ["13:00", "13:01", "13:02"]
    assert data["measured_L1"] == [1.0, 2.0, 3.0] and data["planned_L1"] == [None, 4.0, 4.0]
    assert data["limit"] == [32.0, 32.0, 16.0]
    assert set(data) == {"labels", "limit"} | {
        f"{figure}_{phase}" for figure in ("measured", "planned") for phase in ("L1", "L2", "L3")
    }


@pytest.mark.parametrize(
    ("measured", "planned", "expected"),
    [
        (0.0, None, False),  # a limit alone is no history
        (0.0, 0.0, True),  # a plan that gave nothing is one
        (0.1, None, True),
    ],
)
def test_a_chart_has_data_when_something_was_measured_or_planned(measured, planned, expected):
    data = chart(
        THREE,
        UTC,
        "%H:%M",
        measured={phase: [0.0, 0.0, measured] for phase in ("L1", "L2", "L3")},
        planned={phase: [None, None, planned] for phase in ("L1", "L2", "L3")},
        limit=[32.0] * 3,
    )
    assert has_data(data) is expected
