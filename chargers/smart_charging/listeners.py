"""The control loop's ear: the events that can change a site's plan queue a recompute of that
site, debounced (one run per site per `DEBOUNCE_S`, however many events arrive meanwhile).
After-commit listeners, so nothing is planned on a fact that was rolled back; beat's tick
(`tasks.recompute_all`) catches whatever an event missed. One listener writes, inside the
transaction of a session's start: the needs an ISO 15118 EV stated before it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.core.cache import cache

from chargers.events import (
    ChargerOffline,
    ChargerOnline,
    CommandFinished,
    SessionEvent,
    SessionStarted,
    SessionStopped,
    SessionUpdated,
)
from chargers.models import Charger
from chargers.ocpp.builders import CHARGING_LIMIT_ACTION
from chargers.smart_charging import selectors
from chargers.smart_charging.events import SiteLimitsChanged
from chargers.smart_charging.models import NOMINAL_VOLTAGE, SiteElectrical
from cpms.events import AFTER_COMMIT, IN_TRANSACTION, DomainEvent, subscribe
from cpms.handoff import queue_call
from cpms.memo import TenantFacts
from cpms.models import Tenant
from cpms.tenancy import scoping

log = logging.getLogger(__name__)

DEBOUNCE_S = 2
# A change of draw that replans: less is meter noise, and the margin the allocator leaves
# around an EV's draw takes it.
SIGNIFICANT_DRAW_A = 2.0
PENDING_KEY = "smart:pending:{}"  # site id -> a run is queued
MANAGED_KEY = "smart:managed:{}"  # charger id -> its site id if that is managed, else 0
MANAGED_TTL = 60
# How long after a charger of a managed site connects everything is sent to it again: chargers
# send BootNotification and their open transactions within seconds of connecting.
RECONNECT_SETTLE_S = 5
# Most tenants manage no site, and every meter reading of theirs publishes an event: this
# process remembers which tenants manage none and hears nothing of them (no hand-off, no Redis,
# no query). Beat's tick plans what a change made elsewhere starts meanwhile.
MANAGES_TTL = 30.0
manages_a_site = TenantFacts(MANAGES_TTL)


def _manages_a_site(tenant_id: int) -> bool:
    def ask() -> bool:
        with tenant_scope(tenant_id):
            return SiteElectrical.objects.filter(managed=True).exists()

    return manages_a_site.get(tenant_id, ask)


def pending_release(site_id: int) -> None:
    """Let the next event queue a run again."""
    cache.delete_many([PENDING_KEY.format(site_id)])


def queue_recompute(tenant_id: int, site_id: int, trigger: str) -> None:
    """Queue a recompute of the site unless one is already queued."""
    from chargers.smart_charging.tasks import recompute_site

    if not cache.add(PENDING_KEY.format(site_id), 1, timeout=DEBOUNCE_S + 60):
        return
    try:
        recompute_site.apply_async(
            kwargs={"tenant_id": tenant_id, "site_id": site_id, "trigger": trigger},
            countdown=DEBOUNCE_S,
        )
    except Exception:  # a broker that is away; beat's tick is the safety net
        pending_release(site_id)
        log.warning("could not queue the recompute of site %s", site_id, exc_info=True)


def managed_site_of(tenant_id: int, charger_id: int) -> int | None:
    """The site of a charger when that site is load-managed (cached briefly: every session
    event asks)."""
    key = MANAGED_KEY.format(charger_id)
    cached = cache.get(key)
    if cached is None:
        with tenant_scope(tenant_id):
            cached = selectors.managed_site_id(charger_id)
        cache.set(key, cached, MANAGED_TTL)
    return cached or None


@contextlib.contextmanager
def tenant_scope(tenant_id: int) -> Iterator[None]:
    """The event's tenant scope: after the commit, the publisher's scope may be closed (a
    service called in a block that opened a scope inside a transaction)."""
    current = scoping.current_tenant()
    if current is not None and current.pk == tenant_id:
        yield
        return
    with scoping.scope(Tenant.objects.get(pk=tenant_id)):
        yield


def on_site_limits(event: SiteLimitsChanged) -> None:
    if event.tenant_id is None:
        return
    manages_a_site.forget(event.tenant_id)
    with tenant_scope(event.tenant_id):
        chargers = _chargers_of(event.site_id)
    cache.delete_many([MANAGED_KEY.format(pk) for pk in chargers])
    queue_recompute(event.tenant_id, event.site_id, event.what)


def _chargers_of(site_id: int) -> list[int]:
    return list(Charger.objects.filter(site_id=site_id).values_list("pk", flat=True))


def on_charger_event(event: DomainEvent) -> None:
    charger_id = getattr(event, "charger_id", None)
    if event.tenant_id is None or charger_id is None:
        return
    if isinstance(event, CommandFinished) and event.action != CHARGING_LIMIT_ACTION:
        return
    if not _manages_a_site(event.tenant_id):
        return
    site_id = managed_site_of(event.tenant_id, charger_id)
    if site_id is None:
        return
    if isinstance(event, ChargerOnline):
        from chargers.smart_charging.tasks import charger_reconnected

        # Not at once: a charger that has just connected boots and reports its transactions
        # first, so that each session's limit (TxProfile) is what it gets before its fallback.
        charger_reconnected.apply_async(
            kwargs={"tenant_id": event.tenant_id, "charger_id": charger_id},
            countdown=RECONNECT_SETTLE_S,
        )
        return
    if isinstance(event, SessionUpdated) and not _draw_changed(event):
        return
    queue_recompute(event.tenant_id, site_id, event.name)


def _draw_changed(event: SessionEvent) -> bool:
    from chargers.smart_charging.services import DRAW_KEY

    planned = cache.get(DRAW_KEY.format(event.session_id))
    if planned is None or event.power_w is None:
        return planned is None  # a session the plans have not seen yet
    # Three phases is the common case; a single-phase EV reads as a third of its current
    # here, which only makes this test more eager.
    draw = float(event.power_w) / (NOMINAL_VOLTAGE * 3)
    return abs(draw - planned[1]) >= SIGNIFICANT_DRAW_A


def hear_charger_event(event: DomainEvent) -> None:
    """After commit, on the thread that answered the charger: the work asks the cache and the
    broker (Redis), so it is handed off (cpms/handoff.py)."""
    if event.tenant_id is None or manages_a_site.known(event.tenant_id) is False:
        return
    queue_call(on_charger_event, event)


def on_session_started(event: SessionStarted) -> None:
    """In the start's own transaction: needs an EV stated before it are the session's by the
    time the recompute the start queues reads them."""
    from chargers.smart_charging.services.ev import ev_needs_attach

    if event.tenant_id is not None:
        ev_needs_attach(
            tenant_id=event.tenant_id,
            session_id=event.session_id,
            charger_id=event.charger_id,
            evse_id=event.evse_id,
        )


def subscribe_all() -> None:
    subscribe(SessionStarted, on_session_started, phase=IN_TRANSACTION)
    subscribe(SiteLimitsChanged, on_site_limits, phase=AFTER_COMMIT)
    for event_type in (
        SessionStarted,
        SessionStopped,
        SessionUpdated,
        ChargerOnline,
        ChargerOffline,
        CommandFinished,
    ):
        subscribe(event_type, hear_charger_event, phase=AFTER_COMMIT)
