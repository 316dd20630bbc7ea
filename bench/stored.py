"""Count what the project stored of what a scenario's chargers were answered for: nothing
answered may be lost. Run by the benchmark after a scenario, with Django set up on the scratch
database; the answered counts (`bench.load.Answered`, summed over the workers) come as JSON on
stdin, the counts found as one JSON object on stdout:

    echo '{"transactions": ["17"], "events": 0, "samples": 9}' | python -m bench.stored
"""

from __future__ import annotations

import json
import sys

# Transaction ids per query: far below SQLite's limit on parameters.
CHUNK = 500


def stored(transactions: list[str]) -> dict[str, int]:
    """The benchmark tenant's sessions with these transaction ids, their 2.0.1 events and
    their meter samples, and how many of those sessions are still open (every scenario stops
    what it started before this count)."""
    import django

    django.setup()
    from chargers.models import ChargingSession, MeterSample, TransactionEventRecord
    from cpms.tenancy import scoping

    found = {"transactions": 0, "events": 0, "samples": 0, "left_open": 0}
    with scoping.unscoped():
        for start in range(0, len(transactions), CHUNK):
            chunk = transactions[start : start + CHUNK]
            sessions = ChargingSession.objects.filter(transaction_id__in=chunk)
            found["transactions"] += sessions.count()
            found["left_open"] += sessions.filter(stopped_at__isnull=True).count()
            events = TransactionEventRecord.objects.filter(session__in=sessions)
            found["events"] += events.count()
            found["samples"] += MeterSample.objects.filter(session__in=sessions).count()
    return found


def run() -> None:
    answered = json.loads(sys.stdin.read())
    print(json.dumps(stored(answered["transactions"])))


if __name__ == "__main__":
    run()
