"""The rollout's decisions, table by table: waves, verdicts, windows, starts, timeouts."""

from datetime import UTC, datetime, time, timedelta

import pytest

from chargers.firmware import planning
from chargers.firmware.planning import Candidate, Decision, Verdict

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "canary", "batch_size", "batch_percent", "sizes"),
    [
        (100, 5, None, 20, [5, 20, 20, 20, 20, 15]),
        (100, 5, 30, None, [5, 30, 30, 30, 5]),
        (100, 0, 50, None, [50, 50]),
        (10, 5, None, None, [5, 5]),
        (3, 5, 10, None, [3]),
        (7, 1, None, 1, [1, 1, 1, 1, 1, 1, 1]),
        (0, 5, 10, None, []),
    ],
)
def test_it_splits_a_campaign_into_a_canary_and_batches(
    total, canary, batch_size, batch_percent, sizes
):
    got = planning.wave_sizes(
        total, canary=canary, batch_size=batch_size, batch_percent=batch_percent
    )
    assert got == sizes
    assert sum(got) == total


def test_a_deferred_charger_holds_the_canary():
    counts = {"succeeded": 1, "deferred": 1}
    assert planning.wave_verdict(counts, size=2, threshold_percent=10, canary=True) is (
        Verdict.RUNNING
    )
    assert planning.wave_verdict(counts, size=2, threshold_percent=10) is Verdict.DONE


def test_a_deferred_charger_holds_a_batch_when_its_deferral_is_bounded():
    # It gets the update, or is skipped, within the limit: the next wave waits for that.
    counts = {"succeeded": 1, "deferred": 1}
    assert planning.wave_verdict(counts, size=2, threshold_percent=10, deferral_bounded=True) is (
        Verdict.RUNNING
    )


@pytest.mark.parametrize(
    ("counts", "size", "threshold", "overridden", "verdict"),
    [
        ({"succeeded": 5}, 5, 10, False, Verdict.DONE),
        ({"succeeded": 4, "downloading": 1}, 5, 10, False, Verdict.RUNNING),
        ({"succeeded": 4, "failed": 1}, 5, 10, False, Verdict.HALT),
        ({"succeeded": 4, "failed": 1}, 5, 20, False, Verdict.DONE),  # 20% is not past 20%
        ({"failed": 1, "pending": 9}, 10, 5, False, Verdict.HALT),  # halts before the rest
        ({"succeeded": 4, "failed": 1}, 5, 10, True, Verdict.DONE),  # resumed by an operator
        ({"succeeded": 3, "deferred": 2}, 5, 10, False, Verdict.DONE),  # deferral holds nothing
        ({"succeeded": 3, "skipped": 1, "cancelled": 1}, 5, 10, False, Verdict.DONE),
        ({"pending": 5}, 5, 0, False, Verdict.RUNNING),
        ({"succeeded": 9, "failed": 1}, 10, 0, False, Verdict.HALT),
    ],
)
def test_it_judges_a_wave(counts, size, threshold, overridden, verdict):
    assert (
        planning.wave_verdict(counts, size=size, threshold_percent=threshold, overridden=overridden)
        is verdict
    )


# 01:30 UTC is 02:30 in Berlin (CET) and 20:30 the evening before in New York (EST).
@pytest.mark.parametrize(
    ("zone", "start", "end", "inside"),
    [
        ("Europe/Berlin", time(2), time(5), True),
        ("America/New_York", time(2), time(5), False),
        ("America/New_York", time(20), time(23), True),
        ("Europe/Berlin", time(22), time(4), True),  # a window past midnight
        ("America/New_York", time(22), time(4), False),
        ("Europe/Berlin", time(2, 30), time(5), True),  # the start is inside
        ("Europe/Berlin", time(0), time(2, 30), False),  # the end is not
        ("Asia/Kolkata", None, None, True),  # no window: always
        ("", time(1), time(2), True),  # no zone: UTC
    ],
)
def test_it_checks_the_window_in_the_sites_local_time(zone, start, end, inside):
    assert planning.in_window(NOW, zone, start, end) is inside


def test_the_window_follows_daylight_saving_time():
    # 01:30 UTC in July is 03:30 in Berlin (CEST): outside a 01:00-03:00 window.
    summer = datetime(2026, 7, 2, 1, 30, tzinfo=UTC)
    assert planning.in_window(summer, "Europe/Berlin", time(1), time(3)) is False
    assert planning.in_window(NOW, "Europe/Berlin", time(1), time(3)) is True


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("candidate", "limit", "decision"),
    [
        (Candidate(1, in_window=True, in_session=False), None, Decision.START),
        (Candidate(1, in_window=False, in_session=False), None, Decision.WAIT),
        (Candidate(1, in_window=True, in_session=True), None, Decision.DEFER),
        (Candidate(1, True, True, deferred_since=NOW - 5 * HOUR), None, Decision.DEFER),
        (Candidate(1, True, True, deferred_since=NOW - 5 * HOUR), 4 * HOUR, Decision.SKIP),
        (Candidate(1, True, True, deferred_since=NOW - HOUR), 4 * HOUR, Decision.DEFER),
        (Candidate(1, False, True), 4 * HOUR, Decision.WAIT),  # outside the window: no clock
        (Candidate(1, True, False, busy_elsewhere=True), None, Decision.WAIT),
    ],
)
def test_it_decides_whether_a_charger_starts(candidate, limit, decision):
    assert planning.decide(candidate, now=NOW, defer_limit=limit) is decision


def test_a_charger_deferred_past_the_limit_is_sent_the_update_when_the_campaign_says_so():
    waited = Candidate(1, True, True, deferred_since=NOW - 5 * HOUR)
    assert planning.decide(waited, now=NOW, defer_limit=4 * HOUR, send_at_limit=True) is (
        Decision.START
    )


def test_it_starts_no_more_than_the_room_in_flight_allows():
    candidates = [
        Candidate(1, in_window=True, in_session=True),
        Candidate(2, in_window=True, in_session=False),
        Candidate(3, in_window=False, in_session=False),
        Candidate(4, in_window=True, in_session=False),
        Candidate(5, in_window=True, in_session=False),
    ]

    decisions = planning.choose_starts(
        candidates, now=NOW, in_flight=8, max_in_flight=10, defer_limit=None
    )

    assert decisions == {
        1: Decision.DEFER,
        2: Decision.START,
        3: Decision.WAIT,
        4: Decision.START,
        5: Decision.WAIT,
    }


def test_it_starts_nothing_when_in_flight_is_full():
    decisions = planning.choose_starts(
        [Candidate(1, True, False)], now=NOW, in_flight=12, max_in_flight=10, defer_limit=None
    )
    assert decisions == {1: Decision.WAIT}


TIMEOUTS = planning.Timeouts(download=30, install=20, boot=10)


@pytest.mark.parametrize(
    ("state", "minutes"),
    [
        ("sending", 30),
        ("accepted", 30),
        ("downloading", 30),
        ("downloaded", 20),
        ("installing", 20),
        ("installed", 10),
        ("pending", None),
        ("deferred", None),
        ("succeeded", None),
        ("failed", None),
    ],
)
def test_each_stage_has_its_time_limit(state, minutes):
    deadline = planning.stage_deadline(state, NOW, TIMEOUTS)
    assert deadline == (None if minutes is None else NOW + timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("current", "reported", "progress"),
    [
        ("sending", "downloading", True),
        ("accepted", "downloading", True),
        ("downloading", "downloaded", True),
        ("downloaded", "downloading", False),  # a repeated earlier step moves nothing back
        ("installed", "installing", False),
        ("installing", "installed", True),
        ("sending", "idle", False),
        ("succeeded", "installed", False),
    ],
)
def test_reports_only_move_an_update_forward(current, reported, progress):
    assert planning.is_progress(current, reported) is progress


@pytest.mark.parametrize(
    ("state", "reported", "outcome"),
    [
        ("installed", "2.0.0", "succeeded"),
        ("installed", "1.0.0", "failed"),  # said Installed, came back on the old version
        ("installing", "1.0.0", "failed"),
        ("downloading", "1.0.0", None),  # restarted while downloading: nothing to judge yet
        ("sending", "2.0.0", "succeeded"),
    ],
)
def test_a_boot_decides_an_update(state, reported, outcome):
    assert (
        planning.boot_outcome(state, reported_version=reported, target_version="2.0.0") == outcome
    )


@pytest.mark.parametrize(
    ("attempt", "max_attempts", "following"),
    [(1, 2, "pending"), (2, 2, "failed"), (1, 1, "failed"), (3, 5, "pending")],
)
def test_a_failed_attempt_is_retried_while_attempts_remain(attempt, max_attempts, following):
    assert planning.after_failure(attempt, max_attempts) == following


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("2.9", "2.10"), ("1.0.0", "1.0.1"), ("1.9.0", "2.0.0"), ("v1.2", "v1.10"), ("", "0.1")],
)
def test_versions_compare_by_their_numbers(lower, higher):
    assert planning.version_key(lower) < planning.version_key(higher)


def test_request_ids_differ_per_attempt_and_stay_in_32_bits():
    ids = {
        planning.request_id_for(target, attempt) for target in (1, 2, 10**9) for attempt in (1, 2)
    }
    assert len(ids) == 6
    assert all(0 < i < 2**31 for i in ids)
