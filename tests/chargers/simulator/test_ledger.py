"""The chargers' ledger of what the CSMS answered, held against what a database stored: each
kind of loss and doubling is counted, and only answered messages are in it."""

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from ocpp.v16 import call, call_result

from chargers.simulator.ledger import DEFAULT_MEASURAND, Ledger, Sample, reconcile

AT = "2026-12-06T20:00:00.123456+00:00"
START = (1, datetime(2026, 12, 6, 19, 0, tzinfo=UTC), Decimal("1000"))


def answered_ledger() -> Ledger:
    ledger = Ledger()
    ledger.record(
        "CP-1",
        "StartTransaction",
        call.StartTransaction(connector_id=1, id_tag="T", meter_start=1000, timestamp=AT),
        call_result.StartTransaction(transaction_id=7, id_tag_info={"status": "Accepted"}),
    )
    ledger.record(
        "CP-1",
        "MeterValues",
        call.MeterValues(
            connector_id=1,
            transaction_id=7,
            meter_value=[
                {
                    "timestamp": AT,
                    "sampled_value": [
                        {"value": "1500.0"},
                        {"value": "7", "measurand": "Current.Import", "phase": "L1"},
                    ],
                }
            ],
        ),
        call_result.MeterValues(),
    )
    return ledger


def sample(value: str, measurand=DEFAULT_MEASURAND, phase="") -> Sample:
    return Sample("CP-1", datetime.fromisoformat(AT), measurand, phase, Decimal(value))


STORED_SAMPLES = Counter({sample("1500.000000"): 1, sample("7.000000", "Current.Import", "L1"): 1})


def test_what_was_stored_once_reconciles_to_zeros():
    outcome = reconcile(
        answered_ledger(), sessions=[("CP-1", "7", START, False)], samples=STORED_SAMPLES
    )
    assert outcome.clean
    assert (outcome.sessions, outcome.samples) == (1, 2)


def test_a_session_and_a_sample_missing_are_counted_lost():
    outcome = reconcile(answered_ledger(), sessions=[], samples=Counter({sample("1500"): 1}))
    assert (outcome.sessions_lost, outcome.samples_lost) == (1, 1)
    assert not outcome.clean


def test_a_start_stored_twice_and_a_sample_stored_twice_are_counted_doubled():
    outcome = reconcile(
        answered_ledger(),
        sessions=[("CP-1", "7", START, False), ("CP-1", "8", START, False)],
        samples=STORED_SAMPLES + Counter({sample("1500"): 1}),
    )
    assert (outcome.sessions_doubled, outcome.samples_doubled) == (1, 1)


def test_a_session_still_open_is_counted():
    outcome = reconcile(
        answered_ledger(), sessions=[("CP-1", "7", START, True)], samples=STORED_SAMPLES
    )
    assert outcome.sessions_left_open == 1
    assert "left open 1" in outcome.report()


def test_only_answered_transaction_messages_are_kept():
    ledger = Ledger()
    # A MeterValues outside a transaction, and a StartTransaction the CSMS gave no id.
    ledger.record(
        "CP-1",
        "MeterValues",
        call.MeterValues(connector_id=1, meter_value=[{"timestamp": AT, "sampled_value": []}]),
        call_result.MeterValues(),
    )
    ledger.record("CP-1", "StartTransaction", None, None)
    assert ledger.calls == 0
