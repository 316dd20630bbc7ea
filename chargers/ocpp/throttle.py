"""What a flood of refused OCPP handshakes may cost, and whom it cannot lock out.

A refused handshake costs a password hash (slow on purpose) and a row. Failures are counted in
this process, within a sliding window, three ways:

- per address and charger id: a charger with a wrong password retrying in a loop is refused
  unheard (no hash, no row) once it has failed `PAIR_LIMIT` times, and only it: the other
  chargers behind the same address (a depot's NAT) keep connecting;
- per address: a client trying many ids is refused unheard after `ADDRESS_LIMIT` failures;
- per charger id: after `IDENTITY_LIMIT` failures from anywhere (password guessing spread over
  many addresses), only the address the charger last connected from is heard, so the right
  charger still gets in at once.

A refusal is recorded once per reason, tenant, id and address within the window; its repeats
are counted in one log line. Each node counts for itself: behind a load balancer an attacker
gets the limits once per node, which is still far from a guessing rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from django.conf import settings

log = logging.getLogger(__name__)

WINDOW = 60.0  # seconds
PAIR_LIMIT = 10
ADDRESS_LIMIT = 60
IDENTITY_LIMIT = 20
# Keys remembered at the most per count; the oldest are forgotten first (bounded memory under
# a flood of made-up ids or addresses).
MOST_KEYS = 50_000

Identity = tuple[str, str]  # a charger's tenant slug and charge point id, as its URL names them


class Failures:
    """Failure times per key within the last `window` seconds."""

    def __init__(self, window: float = WINDOW, most_keys: int = MOST_KEYS) -> None:
        self.window, self.most_keys = window, most_keys
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def count(self, key: Hashable, now: float) -> int:
        times = self._times.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._times[key]
            return 0
        return len(times)

    def add(self, key: Hashable, now: float) -> None:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque()
            if len(self._times) > self.most_keys:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        times.append(now)


class Throttle:
    """The handshake's counts, shared by the threads that admit sockets."""

    def __init__(self, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic):
        self.enabled, self.clock = enabled, clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every count (a new process starts this way)."""
        with self._lock:
            self._pairs, self._addresses, self._identities = Failures(), Failures(), Failures()
            self._recorded = Failures()  # refusals written within the window
            self.unheard = 0  # refused without a hearing
            self.unrecorded = 0  # refusals counted but not written

    def heard(self, *, address: str, identity: Identity) -> bool:
        """Whether a handshake from `address` for the charger `identity` (tenant slug and
        charge point id) gets checked at all, as far as the address tells (asked before any
        database work)."""
        if not self.enabled:
            return True
        now = self.clock()
        with self._lock:
            refused = (
                self._pairs.count((address, identity), now) >= PAIR_LIMIT
                or self._addresses.count(address, now) >= ADDRESS_LIMIT
            )
            return self._decided(refused, address, identity)

    def heard_for_charger(self, *, address: str, identity: Identity, last_address: str) -> bool:
        """The same, as far as the charger tells: while its id is being guessed at, only the
        address it last connected from (`last_address`) is heard."""
        if not self.enabled:
            return True
        now = self.clock()
        with self._lock:
            refused = (
                self._identities.count(identity, now) >= IDENTITY_LIMIT and address != last_address
            )
            return self._decided(refused, address, identity)

    def _decided(self, refused: bool, address: str, identity: Identity) -> bool:
        if refused:
            self.unheard += 1
            if self.unheard % 1000 == 1:
                log.warning(
                    "handshakes throttled: %s for %s refused unheard (%d so far)",
                    address,
                    "/".join(identity)[:100],
                    self.unheard,
                )
        return not refused

    def failed(self, *, address: str, identity: Identity, reason: str) -> bool:
        """Count a refusal; whether it is the first of its kind within the window (the one
        to record)."""
        if not self.enabled:
            return True
        now = self.clock()
        with self._lock:
            self._pairs.add((address, identity), now)
            self._addresses.add(address, now)
            self._identities.add(identity, now)
            kind = (reason, identity, address)
            if self._recorded.count(kind, now):
                self.unrecorded += 1
                return False
            self._recorded.add(kind, now)
            return True


throttle = Throttle(enabled=settings.OCPP_HANDSHAKE_THROTTLE)
