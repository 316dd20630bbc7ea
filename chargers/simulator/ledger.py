"""What simulated chargers were answered for, to hold against what the CSMS stored.

A charger that got a CALLRESULT for a transaction message may forget it: the CSMS has it. The
ledger keeps, per charger, each transaction the CSMS confirmed (started, stopped) and each
meter sample of a transaction's MeterValues the CSMS confirmed, so that a test (a fault
suite) can count what the database lost or doubled. OCPP 1.6 transaction messages; a 2.0.1
charger's are not kept (its TransactionEvents would need seqNo bookkeeping of their own).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

DEFAULT_MEASURAND = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class Sample:
    charger: str
    timestamp: datetime
    measurand: str
    phase: str
    value: Decimal


@dataclass
class Ledger:
    # (charger id, transaction id) of each StartTransaction answered, and of each stop.
    started: set[tuple[str, str]] = field(default_factory=set)
    stopped: set[tuple[str, str]] = field(default_factory=set)
    samples: Counter[Sample] = field(default_factory=Counter)

    def record(self, charger: str, action: str, payload: Any, result: Any) -> None:
        """A CALL `charger` sent and the CSMS answered with `result`."""
        if action == "StartTransaction" and getattr(result, "transaction_id", None) is not None:
            self.started.add((charger, str(result.transaction_id)))
        elif action == "StopTransaction":
            self.stopped.add((charger, str(payload.transaction_id)))
        elif action == "MeterValues" and getattr(payload, "transaction_id", None) is not None:
            for meter_value in payload.meter_value:
                at = datetime.fromisoformat(meter_value["timestamp"])
                for sampled in meter_value["sampled_value"]:
                    sample = Sample(
                        charger,
                        at,
                        sampled.get("measurand") or DEFAULT_MEASURAND,
                        sampled.get("phase") or "",
                        Decimal(sampled["value"]),
                    )
                    self.samples[sample] += 1

    @property
    def calls(self) -> int:
        return len(self.started) + len(self.stopped) + sum(self.samples.values())


@dataclass
class Reconciliation:
    """What the database holds against the ledger: every figure but `sessions` and
    `samples` (the ledger's totals) should be 0."""

    sessions: int
    sessions_lost: int
    sessions_doubled: int
    sessions_left_open: int
    samples: int
    samples_lost: int
    samples_doubled: int

    def report(self) -> str:
        return (
            f"ledger: {self.sessions} sessions answered, {self.samples} meter samples answered\n"
            f"sessions lost {self.sessions_lost}, doubled {self.sessions_doubled}, "
            f"left open {self.sessions_left_open}\n"
            f"meter samples lost {self.samples_lost}, doubled {self.samples_doubled}"
        )

    @property
    def clean(self) -> bool:
        return not (
            self.sessions_lost
            or self.sessions_doubled
            or self.sessions_left_open
            or self.samples_lost
            or self.samples_doubled
        )


def reconcile(
    ledger: Ledger,
    *,
    sessions: list[tuple[str, str, tuple[Any, ...], bool]],
    samples: Counter[Sample],
) -> Reconciliation:
    """`sessions`: the database's, as (charger, transaction id, what the charger said of its
    start: connector, start time, meter start; whether still open); `samples`: the database's
    meter samples of the same chargers, counted."""
    stored = {(charger, transaction) for charger, transaction, _, _ in sessions}
    starts = Counter((charger, start) for charger, _, start, _ in sessions)
    open_ = {(charger, transaction) for charger, transaction, _, is_open in sessions if is_open}
    return Reconciliation(
        sessions=len(ledger.started),
        sessions_lost=len(ledger.started - stored),
        # One start the charger made, stored as two sessions (a resend not recognised).
        sessions_doubled=sum(count - 1 for count in starts.values() if count > 1),
        # Stopped as the charger was answered, or every session once the chargers stopped.
        sessions_left_open=len(open_),
        samples=sum(ledger.samples.values()),
        samples_lost=sum(max(0, n - samples[s]) for s, n in ledger.samples.items()),
        samples_doubled=sum(max(0, samples[s] - n) for s, n in ledger.samples.items()),
    )
