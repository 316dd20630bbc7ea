"""The reservation domain's ear on the charger domain's events, after commit: the outcome of a
reservation command, and sessions that may use a reservation. Each queues a task only when a
reservation may be concerned; the beat tick is the safety net for a lost one."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from chargers.events import ChargerBooted, CommandFinished, SessionEvent
from chargers.models import RegistrationStatus
from chargers.ocpp import readers
from chargers.reservations import selectors
from cpms.handoff import queue_task
from cpms.memo import TenantFacts
from cpms.tenancy import scoping

# The chargers of each tenant with an open reservation, remembered for a while so that the
# sessions of a busy fleet ask once per tenant and period rather than once per message. A
# reservation is accepted through the socket of its charger, in this process, and that answer
# forgets the tenant here at once; one missed elsewhere meanwhile is settled by the tick at its
# expiry (a session by its token on its connector counts as its use).
RESERVED_TTL = 30.0
_reserved: dict[int, tuple[float, frozenset[int]]] = {}
# Sessions already looked at with their token: a running session's many updates ask once.
_looked_at: OrderedDict[int, None] = OrderedDict()
LOOKED_AT_MAX = 10_000
_lock = threading.Lock()
# Whether the tenant has a reservation waiting for its charger to connect (the demo's); one
# made meanwhile elsewhere is sent by the tick.
waiting_anywhere = TenantFacts(ttl=30.0)


def _in_scope(tenant_id: int) -> bool:
    tenant = scoping.current_tenant()
    return tenant is not None and tenant.pk == tenant_id


def reserved_chargers(tenant_id: int) -> frozenset[int]:
    """The tenant's chargers with an open reservation (asked in the tenant's scope)."""
    known = _reserved.get(tenant_id)
    if known is not None and known[0] > time.monotonic():
        return known[1]
    chargers = selectors.chargers_with_open()
    _reserved[tenant_id] = (time.monotonic() + RESERVED_TTL, chargers)
    return chargers


def forget(tenant_id: int | None = None) -> None:
    """Ask again for the tenant (or every tenant; tests) next time."""
    if tenant_id is None:
        _reserved.clear()
        with _lock:
            _looked_at.clear()
    else:
        _reserved.pop(tenant_id, None)


def _first_look(session_id: int) -> bool:
    with _lock:
        if session_id in _looked_at:
            return False
        _looked_at[session_id] = None
        if len(_looked_at) > LOOKED_AT_MAX:
            _looked_at.popitem(last=False)
        return True


def on_command_finished(event: CommandFinished) -> None:
    if event.tenant_id is None or event.action not in readers.RESERVATION_ACTIONS:
        return
    forget(event.tenant_id)
    from chargers.reservations.tasks import command_finished

    queue_task(command_finished, tenant_id=event.tenant_id, command_id=event.command_id)


def on_session(event: SessionEvent) -> None:
    """A session started or moved on (a 2.0.1 transaction may name its token and reservation
    only in a later event): if its charger has an open reservation, see whether it uses it."""
    if event.tenant_id is None or not event.id_tag or not _in_scope(event.tenant_id):
        return
    if event.charger_id not in reserved_chargers(event.tenant_id):
        return
    if not _first_look(event.session_id):
        return
    from chargers.reservations.tasks import session_seen

    queue_task(session_seen, tenant_id=event.tenant_id, session_id=event.session_id)


def on_boot(event: ChargerBooted) -> None:
    """A charger booted and was accepted: reservations waiting for it go out now rather than
    at the next tick."""
    if event.tenant_id is None or not _in_scope(event.tenant_id):
        return
    if event.status != RegistrationStatus.ACCEPTED:
        return
    if not waiting_anywhere.get(event.tenant_id, selectors.any_waiting):
        return
    from chargers.reservations.tasks import send_waiting

    queue_task(send_waiting, tenant_id=event.tenant_id, charger_id=event.charger_id)
