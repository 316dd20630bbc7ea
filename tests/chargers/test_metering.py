"""The session arithmetic on its own: tables of cases, and properties that hold for any
delivery order of a transaction's reports. No database, no charger."""

import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargers.metering import (
    ENERGY,
    POWER,
    Sample,
    SessionFigures,
    TransactionReport,
    charger_time,
    follow_meter,
    follow_register,
    is_suspect,
    local_time,
    merge_transaction_report,
    samples_received,
    session_energy,
    session_lost,
    session_opened,
)
from chargers.models import SessionState

T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=12)
ACTIVE, COMPLETED = SessionState.ACTIVE, SessionState.COMPLETED


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def energy(minutes, wh, unit="Wh", **fields) -> Sample:
    return Sample(timestamp=at(minutes), measurand=ENERGY, value=Decimal(wh), unit=unit, **fields)


def power(minutes, w, unit="W", **fields) -> Sample:
    return Sample(timestamp=at(minutes), measurand=POWER, value=Decimal(w), unit=unit, **fields)


def figures(**fields) -> SessionFigures:
    return SessionFigures(**{"state": ACTIVE, "started_at": T0, **fields})


def d(value) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.mark.parametrize(
    "when,suspect",
    [
        (NOW, False),
        (NOW + timedelta(hours=23), False),
        (NOW + timedelta(days=1, seconds=1), True),
        (datetime(2009, 12, 31, 23, 59, tzinfo=UTC), True),
        (datetime(2010, 1, 1, tzinfo=UTC), False),
    ],
)
def test_a_timestamp_is_suspect_far_in_the_future_or_before_2010(when, suspect):
    assert is_suspect(when, NOW) is suspect


LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FIRST = datetime(1, 1, 1, tzinfo=UTC)
# Times whose UTC is no datetime at all: the parser yields them from an offset.
BEYOND_LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))
BEFORE_FIRST = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize(
    "sent,kept",
    [
        (at(0), (at(0), False)),  # in the past: as sent (a queue delivered after an outage)
        (NOW + timedelta(hours=23), (NOW + timedelta(hours=23), False)),
        (NOW + timedelta(days=1, seconds=1), (NOW, True)),
        (datetime(2009, 12, 31, 23, 59, tzinfo=UTC), (NOW, True)),
        (datetime(1970, 1, 1, tzinfo=UTC), (NOW, True)),  # a clock reset after a power loss
        (LAST, (NOW, True)),
        (FIRST, (NOW, True)),
        (BEYOND_LAST, (NOW, True)),
        (BEFORE_FIRST, (NOW, True)),
    ],
)
def test_an_implausible_charger_time_is_kept_as_the_receipt_time_and_flagged(sent, kept):
    assert charger_time(sent, NOW) == kept
    assert is_suspect(sent, NOW) is kept[1]


TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    "moment,zone,shown",
    [
        (NOW, TOKYO, "2030-05-02T05:00:00+09:00"),
        (LAST, LOS_ANGELES, "9999-12-31T15:59:59-08:00"),
        (LAST, TOKYO, "9999-12-31T23:59:59+00:00"),  # no year 10000: in UTC
        (FIRST, TOKYO, "0001-01-01T09:18:59+09:18:59"),
        (FIRST, LOS_ANGELES, "0001-01-01T00:00:00+00:00"),  # no year 0: in UTC
        (BEYOND_LAST, TOKYO, "9999-12-31T23:59:59-05:00"),  # no UTC either: as given
    ],
)
def test_a_time_is_shown_in_its_zone_or_else_as_given(moment, zone, shown):
    assert local_time(moment, zone).isoformat() == shown


def test_samples_at_implausible_times_are_kept_at_their_receipt_time():
    fine, broken = energy(0, 1000), energy(0, 2000)._replace(timestamp=LAST)
    assert samples_received([fine, broken], NOW) == [fine, broken._replace(timestamp=NOW)]


@pytest.mark.parametrize("broken", [LAST, FIRST, BEYOND_LAST, BEFORE_FIRST])
def test_a_transaction_reported_at_an_implausible_time_is_dated_when_received(broken):
    opened = session_opened(TransactionReport(timestamp=broken), now=NOW)
    assert (opened.started_at, opened.timestamp_suspect) == (NOW, True)
    later = NOW + timedelta(minutes=5)
    ended = merge_transaction_report(
        opened, TransactionReport(timestamp=broken, ends=True), now=later
    )
    assert (ended.started_at, ended.stopped_at, ended.timestamp_suspect) == (NOW, later, True)
    # A plausible start reported late still moves the start, and keeps the flag.
    merged = merge_transaction_report(ended, TransactionReport(timestamp=at(0)), now=later)
    assert (merged.started_at, merged.timestamp_suspect) == (at(0), True)


@pytest.mark.parametrize(
    "start,last,stop,recorded,expected",
    [
        (1000, 9500, None, 0, 8500),  # running: the last reading
        (1000, 9500, 9600, 0, 8600),  # stopped: the stop reading
        (5000, 4000, None, 0, 0),  # a register that went backwards delivers nothing
        (None, 9500, None, 7, 7),  # no first reading: what was recorded
        (1000, None, None, 7, 7),  # no reading since: what was recorded
    ],
)
def test_a_sessions_energy_is_its_last_reading_minus_its_first(
    start, last, stop, recorded, expected
):
    session = figures(
        meter_start_wh=d(start), meter_last_wh=d(last), meter_stop_wh=d(stop), energy_wh=d(recorded)
    )
    assert session_energy(session) == Decimal(expected)


@pytest.mark.parametrize(
    "samples,before,after",
    [
        # Out of order: the start is the lowest reading, the end the highest.
        ([energy(5, 7000), energy(1, 4000)], (None, None), (4000, 7000)),
        ([energy(5, 7000)], (1000, 9500), (1000, 9500)),
        ([energy(0, 500), energy(9, 9900)], (1000, 9500), (500, 9900)),
        # Readings of a phase, of the inlet or with a unit we cannot convert do not count.
        ([energy(1, 1, phase="L1"), energy(2, 2, location="Inlet")], (None, None), (None, None)),
        ([energy(1, 5, location="")], (None, None), (5, 5)),
        (
            [Sample(timestamp=at(1), measurand=ENERGY, value=Decimal(9), unit="varh")],
            (1, 2),
            (1, 2),
        ),
        ([Sample(timestamp=at(1), measurand=ENERGY, value=None, signed_data="x")], (1, 2), (1, 2)),
        # kWh, and a missing unit is Wh.
        ([energy(1, "2.5", unit="kWh")], (None, None), (2500, 2500)),
        (
            [Sample(timestamp=at(1), measurand=ENERGY, value=Decimal(42), unit="")],
            (None, None),
            (42, 42),
        ),
    ],
)
def test_the_register_is_followed_from_samples_in_any_order(samples, before, after):
    start, last = before
    followed = follow_register(figures(meter_start_wh=d(start), meter_last_wh=d(last)), samples)
    assert (followed.meter_start_wh, followed.meter_last_wh) == (d(after[0]), d(after[1]))


@pytest.mark.parametrize(
    "state,samples,expected",
    [
        (ACTIVE, [power(1, 7400)], 7400),
        (ACTIVE, [power(1, "7.2", unit="kW")], 7200),
        (ACTIVE, [power(1, 7400, phase="L1")], None),
        (COMPLETED, [power(1, 7400)], None),
    ],
)
def test_an_active_sessions_power_is_its_power_sample(state, samples, expected):
    assert follow_register(figures(state=state), samples).power_w == d(expected)


@pytest.mark.parametrize(
    "state,last,samples,expected",
    [
        # (meter_last_wh, power_w, energy_wh) after a reading of a session started at 1000
        (ACTIVE, 2000, [energy(1, 2500), power(1, 7400)], (2500, 7400, 1500)),
        (ACTIVE, 2000, [energy(1, 1500)], (2000, None, 0)),  # the register only moves up
        (ACTIVE, 2000, [power(1, 11000), power(2, 7000)], (2000, 7000, 0)),  # newest power
        (ACTIVE, 2000, [energy(1, 3000, location="Inlet")], (2000, None, 0)),
        (COMPLETED, 2000, [energy(1, 2500), power(1, 7400)], (2500, None, 0)),
    ],
)
def test_a_meter_reading_moves_a_running_sessions_figures(state, last, samples, expected):
    before = figures(state=state, meter_start_wh=Decimal(1000), meter_last_wh=Decimal(last))
    after = follow_meter(before, samples)
    assert (after.meter_last_wh, after.power_w, after.energy_wh) == tuple(map(d, expected))


def report(minutes, **fields) -> TransactionReport:
    return TransactionReport(timestamp=at(minutes), **fields)


def merged(session: SessionFigures, *reports: TransactionReport) -> SessionFigures:
    for each in reports:
        session = merge_transaction_report(session, each, now=NOW)
    return session


@pytest.mark.parametrize(
    "reports,expected",
    [
        (
            [report(0, samples=(energy(0, 1000),)), report(30, samples=(energy(30, 4000),))],
            {"state": ACTIVE, "started_at": at(0), "energy_wh": Decimal(3000)},
        ),
        (
            [
                report(0, samples=(energy(0, 1000),)),
                report(60, ends=True, stopped_reason="EVDisconnected", samples=(energy(60, 9500),)),
            ],
            {
                "state": COMPLETED,
                "stopped_at": at(60),
                "stop_reason": "EVDisconnected",
                "meter_stop_wh": Decimal(9500),
                "energy_wh": Decimal(8500),
                "power_w": None,
            },
        ),
        # A queued Ended overtakes its Started after an outage: the session still closes, and
        # begins when the Started says.
        (
            [
                report(120, ends=True, samples=(energy(120, 25000),)),
                report(0, samples=(energy(0, 5000),)),
            ],
            {
                "state": COMPLETED,
                "started_at": at(0),
                "stopped_at": at(120),
                "stop_reason": "Local",
                "energy_wh": Decimal(20000),
            },
        ),
        # A second Ended moves the end to the latest; it does not reopen or re-close.
        (
            [report(0), report(60, ends=True), report(90, ends=True), report(70, ends=True)],
            {"state": COMPLETED, "stopped_at": at(90)},
        ),
        # The first EVSE and id token named stay; state, remote start and reservation follow.
        (
            [
                report(
                    0, evse_id=2, connector_id=1, id_tag="A", id_token_id=7, auth_status="Accepted"
                ),
                report(1, evse_id=3, id_tag="B", id_token_id=8, auth_status="Blocked"),
                report(2, charging_state="SuspendedEV", remote_start_id=5, reservation_id=9),
            ],
            {
                "evse_id": 2,
                "connector_id": 1,
                "id_tag": "A",
                "id_token_id": 7,
                "auth_status": "Accepted",
                "charging_state": "SuspendedEV",
                "remote_start_id": 5,
                "reservation_id": 9,
            },
        ),
        (
            [report(0), TransactionReport(timestamp=NOW + timedelta(days=2))],
            {"timestamp_suspect": True, "started_at": at(0)},
        ),
    ],
)
def test_a_transactions_reports_merge_into_its_session(reports, expected):
    session = merged(session_opened(reports[0], now=NOW), *reports)
    assert {name: getattr(session, name) for name in expected} == expected


def test_a_session_opened_by_a_report_naming_an_evse_is_on_its_first_connector():
    opened = session_opened(report(0, evse_id=2), now=NOW)
    assert (opened.evse_id, opened.connector_id, opened.started_at) == (2, 1, at(0))
    assert session_opened(report(0), now=NOW).evse_id == 0


RUNNING = figures(meter_start_wh=Decimal(1000), meter_last_wh=Decimal(4000), power_w=Decimal(7000))
LOST = session_lost(RUNNING, heard_at=at(30), reason="Reboot")


def test_a_lost_session_closes_when_last_heard_of_at_its_last_reading():
    assert (LOST.state, LOST.stopped_at, LOST.stop_reason, LOST.closed_by_server) == (
        COMPLETED,
        at(30),
        "Reboot",
        True,
    )
    assert (LOST.meter_stop_wh, LOST.energy_wh, LOST.power_w) == (
        Decimal(4000),
        Decimal(3000),
        None,
    )
    # Last heard of before it began (a charger clock ahead of ours): it ends when it began.
    assert session_lost(RUNNING, heard_at=at(-5), reason="Other").stopped_at == at(0)


@pytest.mark.parametrize(
    "reports,expected",
    [
        # The charger's own stop, sent after all, replaces the server's.
        (
            [report(45, ends=True, stopped_reason="PowerLoss", samples=(energy(45, 5000),))],
            {
                "state": COMPLETED,
                "stopped_at": at(45),
                "stop_reason": "PowerLoss",
                "meter_stop_wh": Decimal(5000),
                "energy_wh": Decimal(4000),
                "closed_by_server": False,
            },
        ),
        # It reports the session running after all: open again.
        (
            [report(40, samples=(energy(40, 4500),))],
            {
                "state": ACTIVE,
                "stopped_at": None,
                "stop_reason": "",
                "meter_stop_wh": None,
                "energy_wh": Decimal(3500),
                "closed_by_server": False,
            },
        ),
    ],
)
def test_a_session_closed_by_the_server_takes_the_chargers_word_after_all(reports, expected):
    session = merged(LOST, *reports)
    assert {name: getattr(session, name) for name in expected} == expected


# A transaction as a charger reports it: a register reading at each report, growing with
# time, and an Ended report last.
@st.composite
def transactions(draw):
    steps = draw(st.lists(st.integers(0, 50_000), min_size=1, max_size=6))
    start = draw(st.integers(0, 10**9))
    readings = [start]
    for step in steps:
        readings.append(readings[-1] + step)
    reports = [
        report(minute, ends=minute == len(readings) - 1, samples=(energy(minute, wh),))
        for minute, wh in enumerate(readings)
    ]
    return reports


@given(
    transactions().flatmap(
        lambda reports: st.tuples(
            st.just(reports),
            st.permutations(reports),
            st.lists(st.sampled_from(reports), max_size=4),
        )
    )
)
def test_any_delivery_order_with_any_resends_gives_the_same_session(case):
    reports, delivered, resent = case
    delivered = [*delivered, *resent]
    session = merged(session_opened(delivered[0], now=NOW), *delivered)
    readings = [r.samples[0].value for r in reports]
    assert session.state == COMPLETED
    assert (session.started_at, session.stopped_at) == (reports[0].timestamp, reports[-1].timestamp)
    assert session.energy_wh == readings[-1] - readings[0]


@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.integers(0, 10**7), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_energy_is_never_negative_whatever_the_readings(events):
    reports = [
        report(minute, ends=ends, samples=(energy(minute, wh),)) for minute, wh, ends in events
    ]
    session = merged(session_opened(reports[0], now=NOW), *reports)
    assert session.energy_wh >= 0


@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=8))
def test_a_resent_report_changes_nothing(readings):
    reports = [report(i, samples=(energy(i, wh),)) for i, wh in enumerate(readings)]
    once = merged(session_opened(reports[0], now=NOW), *reports)
    assert merge_transaction_report(once, reports[-1], now=NOW) == once
    assert follow_meter(once, list(reports[-1].samples)) == once
