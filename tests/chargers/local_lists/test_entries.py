"""The arithmetic of local lists: digests, differences, capacity and chunks."""

import pytest

from chargers.local_lists.entries import applied, at_most, difference, digest, first_chunk

A = ["ISO14443", "Accepted", "", "", ""]
B = ["ISO14443", "Blocked", "", "", ""]


def test_the_digest_ignores_the_order_of_entries():
    assert digest({"X": A, "Y": B}) == digest({"Y": B, "X": A})
    assert digest({"X": A}) != digest({"X": B})


def test_the_difference_removes_first_then_adds_and_changes_in_uid_order():
    confirmed = {"GONE": A, "SAME": A, "CHANGED": A}
    desired = {"SAME": A, "CHANGED": B, "NEW": A}

    changes = difference(confirmed, desired)

    assert changes == [("GONE", None), ("CHANGED", B), ("NEW", A)]
    assert applied(confirmed, changes) == desired


def test_a_full_charger_keeps_the_blocked_cards_first():
    entries = {"A1": A, "A2": A, "B1": B}

    kept, left_off = at_most(entries, 2)

    assert kept == {"A1": A, "B1": B} and left_off == 1
    assert at_most(entries, None) == (entries, 0)


@pytest.mark.parametrize(
    ("per_message", "bytes_per_message", "expected"), [(3, None, 3), (10, 40, 2), (10, 1, 1)]
)
def test_a_chunk_fits_the_chargers_limits(per_message, bytes_per_message, expected):
    changes = [(f"T{n}", A) for n in range(10)]

    chunk = first_chunk(
        changes,
        per_message=per_message,
        size_of=lambda part: 20 * len(part),
        bytes_per_message=bytes_per_message,
    )

    assert chunk == changes[:expected]
