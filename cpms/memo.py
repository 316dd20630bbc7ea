"""A fact about a tenant that a listener asks on every event (does it manage a site, does it
assign a tariff), remembered by this process for a while so that the busy path asks the
database once per tenant and period instead of once per event.

Each process remembers on its own: a change made elsewhere is seen when the memory expires, so
whatever relies on it has a safety net for that window (a beat sweep). A change made here is
seen at once where its service forgets the tenant.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_all: list[TenantFacts] = []


class TenantFacts:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._facts: dict[int, tuple[float, bool]] = {}  # tenant id -> (valid until, fact)
        _all.append(self)

    def known(self, tenant_id: int) -> bool | None:
        """The fact as remembered, or None when it is not (or no longer) known. No I/O."""
        fact = self._facts.get(tenant_id)
        if fact is None or fact[0] <= time.monotonic():
            return None
        return fact[1]

    def get(self, tenant_id: int, ask: Callable[[], bool]) -> bool:
        """The fact, asked with `ask()` when it is not known."""
        fact = self.known(tenant_id)
        if fact is None:
            fact = ask()
            self._facts[tenant_id] = (time.monotonic() + self.ttl, fact)
        return fact

    def forget(self, tenant_id: int | None = None) -> None:
        """Ask again for the tenant (or every tenant) next time."""
        if tenant_id is None:
            self._facts.clear()
        else:
            self._facts.pop(tenant_id, None)


def forget_all() -> None:
    """Every process memory of every tenant (tests: tenant ids come round again)."""
    for facts in _all:
        facts.forget()
