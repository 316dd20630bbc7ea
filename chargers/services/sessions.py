"""Writes of charging sessions and their meter samples, whichever OCPP version reported them.

Resends change nothing: a 1.6 start is recognised by what it says, a 2.0.1 event by its
sequence number, a sample by the unique constraint on its identity.

The OCPP handlers call these inside the socket's own transaction (`CentralSystem.db`), which
also holds the message log rows. The session writes of both versions join it without a
savepoint (`atomic(savepoint=False)`): nothing catches their errors to carry on, and a
savepoint costs two round trips to the database, about a fifth of a whole 1.6 session's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from chargers.events import SessionStarted, SessionStopped, SessionUpdated
from chargers.integrity import STALE_STOP_REASON, STOP_ASIDE_PREFIX
from chargers.metering import (
    ChargerTime,
    Sample,
    SessionFigures,
    TransactionReport,
    charger_time,
    follow_meter,
    merge_transaction_report,
    missing_sequence_numbers,
    samples_received,
    session_energy,
    session_lost,
    session_opened,
)
from chargers.models import (
    Charger,
    ChargingSession,
    EventKind,
    MeterSample,
    SessionState,
    TransactionEventRecord,
)
from chargers.selectors.tokens import TokenInfo, id_token_verdict
from chargers.services.fleet_settings import stale_session_hours
from chargers.services.reports import charger_event_record
from cpms.events import publish
from cpms.tenancy import scoping
from cpms.tenancy.rows import (
    any_row,
    insert_one,
    insert_rows,
    insert_rows_later,
    locked_row,
    new_id,
    one_row,
    row_values,
    save_fields,
    update_if_unchanged,
    write_if_unchanged,
)


@dataclass
class StartAnswer:
    session: ChargingSession
    token: TokenInfo


@transaction.atomic(savepoint=False)
def session_start(
    *,
    charger_id: int,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime,
    reservation_id: int | None = None,
) -> StartAnswer:
    """A session started by the charger (and numbered by us). A resend of the same start
    returns the same session and id: it is recognised by what the charger sent, also when
    that time was implausible and the session started when the server received it."""
    started = charger_time(timestamp, timezone.now())
    token = id_token_verdict(id_tag=id_tag)
    # The charger's row, locked: two sockets of one charger racing with the same resend take
    # turns here, so the second finds the first's session instead of breaking its constraint.
    charger = _locked_charger(charger_id)
    dedupe_key = f"{connector_id}|{timestamp.isoformat()}|{meter_start}|{id_tag.upper()}"
    existing = one_row(ChargingSession, charger_id=charger_id, dedupe_key=dedupe_key)
    if existing is not None:
        return StartAnswer(session=existing, token=token)
    # One fixed statement settles the usual case: nothing open on the connector to close.
    open_before = any_row(
        ChargingSession,
        charger_id=charger_id,
        evse_id=connector_id,
        state=SessionState.ACTIVE.value,
    )
    # The 1.6 transaction id is ours to choose: the row's id is unique and stable.
    pk = new_id(ChargingSession)
    session = ChargingSession(
        pk=pk,
        tenant_id=charger.tenant_id,
        transaction_id="" if pk is None else str(pk),
        charger_id=charger_id,
        site_id=charger.site_id,
        evse_id=connector_id,
        connector_id=1 if connector_id else 0,
        dedupe_key=dedupe_key,
        id_token=token.token,
        id_tag=id_tag,
        auth_status=token.status,
        reservation_id=reservation_id,
        started_at=started.at,
        timestamp_suspect=started.suspect,
        meter_start_wh=Decimal(meter_start),
        meter_last_wh=Decimal(meter_start),
    )
    if pk is None:  # no sequence to ask first (SQLite): the ORM's INSERT, then its id
        session.save(force_insert=True)
        session.transaction_id = str(session.pk)
        save_fields(session, ["transaction_id"])
    else:
        insert_one(session)
    _remember(session)
    publish(SessionStarted.of(session))
    if open_before:
        sessions_close_lost(charger_id=charger_id, started=session)
    return StartAnswer(session=session, token=token)


# What a stop sets (`session_stop`).
STOP_FIELDS = (
    "closed_by_server",
    "state",
    "stopped_at",
    "stop_reason",
    "stop_id_tag",
    "timestamp_suspect",
    "meter_stop_wh",
    "meter_last_wh",
    "energy_wh",
    "power_w",
    "updated_at",
)


@transaction.atomic(savepoint=False)
def session_stop(
    *,
    charger_id: int,
    transaction_id: str,
    meter_stop: Decimal | None,
    timestamp: datetime,
    reason: str = "",
    id_tag: str = "",
    samples: list[Sample] | None = None,
    payload: dict[str, Any] | None = None,
) -> tuple[ChargingSession | None, TokenInfo | None]:
    """Close a session. A resend changes nothing; an unknown id is kept aside, not an error.
    An implausible stop time counts as the time the stop arrived (`charger_time`)."""
    now = timezone.now()
    stopped = charger_time(timestamp, now)
    token = id_token_verdict(id_tag=id_tag) if id_tag else None
    running = _forget(charger_id, transaction_id)
    if running is not None and not samples:
        remembered = _stop_remembered(
            running, meter_stop=meter_stop, stopped=stopped, reason=reason, id_tag=id_tag, now=now
        )
        if remembered is not None:
            publish(SessionStopped.of(remembered))
            return remembered, token
    session = _locked_session(charger_id, transaction_id)
    if session is None:
        summary = f"{STOP_ASIDE_PREFIX}{transaction_id}"
        _keep_aside(charger_id, summary, payload, stopped.at)
        return None, token
    if samples:
        kept = samples_store(
            charger_id=charger_id,
            evse_id=session.evse_id,
            session=session,
            samples=samples,
            now=now,
        )
        session_meter_update(session, kept)
    if session.state == SessionState.COMPLETED and not session.closed_by_server:
        return session, token
    correction = session.closed_by_server  # the charger's stop replaces the server's
    session.closed_by_server = False
    session.state = SessionState.COMPLETED
    session.stopped_at = stopped.at
    session.stop_reason = reason or "Local"
    session.stop_id_tag = id_tag or ""
    session.timestamp_suspect = session.timestamp_suspect or stopped.suspect
    if meter_stop is not None:
        session.meter_stop_wh = meter_stop
        session.meter_last_wh = meter_stop
    session.energy_wh = session_energy(session)
    session.power_w = None
    save_fields(session, STOP_FIELDS)
    publish((SessionUpdated if correction else SessionStopped).of(session))
    return session, token


def sessions_close_lost(
    *,
    charger_id: int,
    started: ChargingSession | None = None,
    booted_at: datetime | None = None,
) -> list[ChargingSession]:
    """Close the active sessions its charger came back without: on the EVSE of a session it
    has just `started`, those that began before it (one transaction per EVSE); after it
    booted at `booted_at`, those it had not spoken of since (a reboot ends its transactions).
    Each is closed as the charger would have (`session_lost`) and recorded on the charger; a
    stop it sends after all still counts, and a report of it running opens it again."""
    lost = ChargingSession.objects.select_for_update(of=("self",)).filter(
        charger_id=charger_id, state=SessionState.ACTIVE
    )
    if started is not None:
        if not started.evse_id:
            return []
        lost = lost.filter(evse_id=started.evse_id, started_at__lt=started.started_at)
        lost = lost.exclude(pk=started.pk)
        reason, why = "Other", f"the charger started session {started.transaction_id} there"
    elif booted_at is not None:
        lost = lost.filter(updated_at__lt=booted_at)
        reason, why = "Reboot", "the charger rebooted"
    else:
        raise ValueError("a session started or a boot ends the sessions before it")
    return [_close_lost(session, reason=reason, why=why) for session in lost]


@transaction.atomic
def sessions_close_stale(*, now: datetime | None = None) -> list[ChargingSession]:
    """Close the current tenant's active sessions not heard of for longer than its setting
    (`stale_session_hours`; 0 closes none): their charger never sent the stop. Each is closed
    at its last word and reading, like a lost one (`_close_lost`), so a stop the charger
    sends later still replaces the server's figures. One query finds them for the whole
    fleet; a second run finds nothing more to close."""
    tenant = scoping.current_tenant()
    if tenant is None:
        raise scoping.TenantScopeError("closing stale sessions needs a tenant's scope")
    hours = stale_session_hours(tenant)
    if not hours:
        return []
    now = now or timezone.now()
    stale = ChargingSession.objects.select_for_update(of=("self",)).filter(
        state=SessionState.ACTIVE, updated_at__lt=now - timedelta(hours=hours)
    )
    reason = STALE_STOP_REASON.format(hours=hours)
    why = f"the charger sent no stop and nothing else of it for {hours} h"
    return [_close_lost(session, reason=reason, why=why) for session in stale]


def _close_lost(session: ChargingSession, *, reason: str, why: str) -> ChargingSession:
    """Close an active session as its charger would have (`session_lost`), record why on the
    charger and announce the stop."""
    figures = SessionFigures.of(session)
    lost_figures = session_lost(figures, heard_at=session.updated_at, reason=reason)
    session.save(update_fields=[*_apply(session, lost_figures, figures), "updated_at"])
    charger_event_record(
        charger_id=session.charger_id,
        kind=EventKind.SESSION_LOST,
        summary=f"Session {session.transaction_id} on EVSE {session.evse_id} closed: {why}",
        payload={},
    )
    publish(SessionStopped.of(session))
    return session


class _Locked(NamedTuple):
    tenant_id: int
    site_id: int | None


def _locked_charger(charger_id: int) -> _Locked:
    """The charger's tenant and site, its row locked until the transaction ends: the starts of
    its sessions take turns there, so that two of its sockets racing cannot both create one."""
    row = row_values(Charger, _Locked._fields, lock=True, id=charger_id)
    if row is None:
        raise Charger.DoesNotExist(f"no charger {charger_id} in the tenant's scope")
    return _Locked._make(row)


def _locked_session(charger_id: int, transaction_id: str) -> ChargingSession | None:
    return locked_row(ChargingSession, charger_id=charger_id, transaction_id=transaction_id)


def _keep_aside(
    charger_id: int, summary: str, payload: dict[str, Any] | None, at: datetime | None = None
) -> None:
    """A message about a transaction we do not know: answered, and kept for an operator."""
    charger_event_record(
        charger_id=charger_id,
        kind=EventKind.UNMATCHED,
        summary=summary,
        payload=payload or {},
        at=at,
    )


def samples_store(
    *,
    charger_id: int,
    evse_id: int,
    session: ChargingSession | _Running | None,
    samples: list[Sample],
    now: datetime | None = None,
) -> list[Sample]:
    """Insert samples; resends hit the unique constraint and are skipped. A sample's
    implausible time is stored as the receipt time `now`, flagged (so a resend of such a
    sample is a second row: its receipt time differs). Returns the samples as kept. In a
    group commit they are written with the group's others, before its commit."""
    now = now or timezone.now()
    tenant_id = session.tenant_id if session else _tenant_of(charger_id)
    kept = []
    rows = []
    for s in samples:
        at = charger_time(s.timestamp, now)
        kept.append(s._replace(timestamp=at.at) if at.suspect else s)
        rows.append(
            {
                "tenant_id": tenant_id,
                "charger_id": charger_id,
                "session_id": session.pk if session else None,
                "evse_id": evse_id,
                "timestamp": at.at,
                "timestamp_suspect": at.suspect,
                "measurand": s.measurand,
                "phase": s.phase,
                "location": s.location,
                "context": s.context,
                "unit": s.unit,
                "value": s.value,
                "signed_data": s.signed_data,
            }
        )
    insert_rows_later(MeterSample, rows, ignore_conflicts=True)
    return kept


def _tenant_of(charger_id: int) -> int:
    # The socket's scope names the tenant already; only work outside one reads it.
    tenant = scoping.current_tenant()
    if tenant is not None:
        return tenant.pk
    return Charger.objects.values_list("tenant_id", flat=True).get(pk=charger_id)


def session_meter_update(session: ChargingSession, samples: list[Sample]) -> None:
    """The live figures of a running session: latest register reading and power."""
    before = SessionFigures.of(session)
    changed = _apply(session, follow_meter(before, samples), before)
    if changed:
        save_fields(session, [*changed, "updated_at"])
        publish(SessionUpdated.of(session))


def _apply(session: ChargingSession, figures: SessionFigures, before: SessionFigures) -> list[str]:
    """Set the figures that changed on the session; returns their names."""
    changed = figures.changed(before)
    for name in changed:
        setattr(session, name, getattr(figures, name))
    return changed


@transaction.atomic(savepoint=False)
def meter_values_record(
    *,
    charger_id: int,
    evse_id: int,
    transaction_id: str | None,
    samples: list[Sample],
    payload: dict[str, Any],
) -> None:
    now = timezone.now()
    if transaction_id and _meter_followed(charger_id, evse_id, transaction_id, samples, now):
        return
    session = None
    if transaction_id:
        session = _locked_session(charger_id, transaction_id)
        if session is None:
            _keep_aside(
                charger_id, f"Meter values for unknown transaction {transaction_id}", payload
            )
    kept = samples_store(
        charger_id=charger_id, evse_id=evse_id, session=session, samples=samples, now=now
    )
    if session is not None and kept:
        session_meter_update(session, kept)
        _remember(session)


# --- The figures of running sessions, as this process last committed them ----------------------
#
# A running session's MeterValues computes its new figures from the ones before (`follow_meter`).
# Reading and locking the row for them cost a statement per message; this process remembers
# the figures it committed last, and the write is made conditional on the row still holding
# them. Another writer (a stop, another process or socket, the server closing it) changes them,
# the condition fails and the row is read and locked as before: a memo out of date costs one
# statement, never a wrong figure.


@dataclass(frozen=True, slots=True)
class _Running:
    pk: int
    tenant_id: int
    figures: SessionFigures


# What `follow_meter` reads: the write is made only if the row still holds these.
_METER_INPUTS = (
    "state",
    "meter_start_wh",
    "meter_last_wh",
    "meter_stop_wh",
    "power_w",
    "energy_wh",
)
# Sessions remembered per process at most (the oldest are forgotten first).
RUNNING_REMEMBERED = 20_000
_running: dict[tuple[int, str], _Running] = {}
_running_lock = threading.Lock()


def _remember(session: ChargingSession) -> None:
    """Remember a running session's figures once the transaction writing them commits (on a
    rollback, nothing: the row keeps the figures before)."""
    _remember_figures(
        session.charger_id,
        session.transaction_id,
        _Running(session.pk, session.tenant_id, _as_stored(SessionFigures.of(session))),
    )


def _remember_figures(charger_id: int, transaction_id: str, running: _Running) -> None:
    if connection.vendor != "postgresql" or running.figures.state != SessionState.ACTIVE:
        return
    key = (charger_id, transaction_id)

    def keep() -> None:
        with _running_lock:
            _running.pop(key, None)  # to the end: the newest are kept longest
            _running[key] = running
            if len(_running) > RUNNING_REMEMBERED:
                del _running[next(iter(_running))]

    transaction.on_commit(keep)


# The figures' columns and their scale: PostgreSQL rounds a numeric to its column's scale (ties
# away from zero), and the remembered figures must be what the row holds, or the next write's
# condition fails (and one written from them is stored as computed, not read back).
_SCALES = {
    name: Decimal(1).scaleb(-ChargingSession._meta.get_field(name).decimal_places)  # type: ignore[union-attr]
    for name in ("meter_start_wh", "meter_last_wh", "meter_stop_wh", "power_w", "energy_wh")
}


def _as_stored(figures: SessionFigures) -> SessionFigures:
    """`figures` as the session's row stores them."""
    stored: dict[str, Any] = {
        name: Decimal(value).quantize(scale, ROUND_HALF_UP)
        for name, scale in _SCALES.items()
        if (value := getattr(figures, name)) is not None
    }
    return figures._replace(**stored)


def _forget(charger_id: int, transaction_id: str) -> _Running | None:
    with _running_lock:
        return _running.pop((charger_id, transaction_id), None)


def _meter_followed(
    charger_id: int, evse_id: int, transaction_id: str, samples: list[Sample], now: datetime
) -> bool:
    """A MeterValues of a running session whose figures this process remembers, written with
    one conditional UPDATE; False (nothing written) when it remembers none, when the samples
    change no figure (the locked path then tells whether the session exists), or when the row
    no longer holds the remembered figures."""
    running = _running.get((charger_id, transaction_id))
    if running is None:
        return False
    before = running.figures
    figures = _as_stored(follow_meter(before, samples_received(samples, now)))
    changed = figures.changed(before)
    if not changed:
        return False
    changes = _remembered_changes(running, figures, _METER_INPUTS, updated_at=now)
    if not write_if_unchanged(ChargingSession, running.pk, *changes):
        _forget(charger_id, transaction_id)
        return False
    # The row now holds `figures`: the samples and the event are made from them, not read back.
    samples_store(charger_id=charger_id, evse_id=evse_id, session=running, samples=samples, now=now)
    publish(
        SessionUpdated.from_row(
            figures,
            tenant_id=running.tenant_id,
            session_id=running.pk,
            charger_id=charger_id,
            transaction_id=transaction_id,
        )
    )
    _remember_figures(charger_id, transaction_id, replace(running, figures=figures))
    return True


# What a stop reads of the session besides what it sets (`session_stop`): the write through
# the memo is made only if the row still holds these.
_STOP_INPUTS = (*_METER_INPUTS, "closed_by_server", "timestamp_suspect")


def _stop_remembered(
    running: _Running,
    *,
    meter_stop: Decimal | None,
    stopped: ChargerTime,
    reason: str,
    id_tag: str,
    now: datetime,
) -> ChargingSession | None:
    """The stop of a running session whose figures this process remembers, as `session_stop`
    writes it, with one conditional UPDATE instead of a locked read and an UPDATE; None
    (nothing written) when the row no longer holds the remembered figures."""
    before = running.figures
    figures = before._replace(
        closed_by_server=False,
        state=SessionState.COMPLETED,
        stopped_at=stopped.at,
        stop_reason=reason or "Local",
        timestamp_suspect=before.timestamp_suspect or stopped.suspect,
        power_w=None,
    )
    if meter_stop is not None:
        figures = figures._replace(meter_stop_wh=meter_stop, meter_last_wh=meter_stop)
    figures = figures._replace(energy_wh=session_energy(figures))
    changes = _remembered_changes(
        running, figures, _STOP_INPUTS, stop_id_tag=id_tag or "", updated_at=now
    )
    return update_if_unchanged(ChargingSession, running.pk, *changes)


def _remembered_changes(
    running: _Running, figures: SessionFigures, inputs: tuple[str, ...], **also: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conditional write of `figures` to a remembered session: the values (the figures
    that differ from the remembered ones, and `also`) and what its `inputs` must still hold."""
    before = running.figures
    values = {**{name: getattr(figures, name) for name in figures.changed(before)}, **also}
    return values, {name: getattr(before, name) for name in inputs}


@dataclass
class TransactionEventAnswer:
    session: ChargingSession
    token: TokenInfo | None
    duplicate: bool
    # For a report that ends the transaction: the sequence numbers below its highest not
    # received yet (reports the charger may still have queued), to ask it about.
    missing: tuple[int, ...] = ()


@transaction.atomic(savepoint=False)
def session_event_record(
    *,
    charger_id: int,
    transaction_id: str,
    event_type: str,
    seq_no: int,
    timestamp: datetime,
    trigger_reason: str,
    offline: bool = False,
    evse_id: int | None = None,
    connector_id: int | None = None,
    id_tag: str | None = None,
    id_token_type: str | None = None,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    remote_start_id: int | None = None,
    reservation_id: int | None = None,
    samples: list[Sample] | None = None,
) -> TransactionEventAnswer:
    """One report of a transaction's progress (`event_type` Started, Updated or Ended), in
    any order, any number of times.

    The session is found or created by its transaction id, whichever report arrives first (a
    queued Ended after a long offline period still closes it). A resend (same `seq_no`)
    changes nothing. What a report changes is worked out by `merge_transaction_report`.
    """
    now = timezone.now()
    token = id_token_verdict(id_tag=id_tag, token_type=id_token_type) if id_tag else None
    report = TransactionReport(
        timestamp=timestamp,
        ends=event_type == "Ended",
        evse_id=evse_id,
        connector_id=connector_id,
        id_tag=id_tag if token is not None else None,
        id_token_id=token.token.pk if token is not None and token.token is not None else None,
        auth_status=token.status if token is not None else "",
        charging_state=charging_state,
        stopped_reason=stopped_reason,
        remote_start_id=remote_start_id,
        reservation_id=reservation_id,
        samples=tuple(samples_received(samples or (), now)),
    )
    session, created, open_before = _event_session(charger_id, transaction_id, report, now)
    # The event's record keeps an implausible time as text: it may be no datetime in UTC
    # (9999-12-31T23:59:59-05:00), which a timestamp column cannot hold or give back.
    sent = charger_time(timestamp, now)
    # A resend (its seqNo recorded already) is told by the unique constraint, without the
    # savepoint an IntegrityError would need; the session's lock makes it the only writer.
    recorded = insert_rows(
        TransactionEventRecord,
        [
            {
                "tenant_id": session.tenant_id,
                "session_id": session.pk,
                "seq_no": seq_no,
                "event_type": event_type,
                "trigger_reason": trigger_reason,
                "timestamp": sent.at,
                "timestamp_as_sent": "" if not sent.suspect else timestamp.isoformat(),
                "offline": offline,
                "received_at": now,
            }
        ],
        ignore_conflicts=True,
    )
    if not recorded:
        return TransactionEventAnswer(session=session, token=token, duplicate=True)

    before = SessionFigures.of(session)
    changed = _apply(session, merge_transaction_report(before, report, now=now), before)
    if samples:
        # Under the EVSE the session has now: the first report may not have named one.
        samples_store(
            charger_id=charger_id,
            evse_id=session.evse_id,
            session=session,
            samples=samples,
            now=now,
        )
    # Only what the report changed: the whole row (some 30 columns) went at every report.
    save_fields(session, [*changed, "updated_at"])
    if created:
        publish(SessionStarted.of(session))
    if open_before:
        sessions_close_lost(charger_id=charger_id, started=session)
    ending = report.ends and before.state != SessionState.COMPLETED
    publish((SessionStopped if ending else SessionUpdated).of(session))
    missing: tuple[int, ...] = ()
    if report.ends:
        received = session.events.values_list("seq_no", flat=True)
        missing = tuple(missing_sequence_numbers(received))
    return TransactionEventAnswer(session=session, token=token, duplicate=False, missing=missing)


def _event_session(
    charger_id: int, transaction_id: str, report: TransactionReport, now: datetime
) -> tuple[ChargingSession, bool, bool]:
    """The session of a 2.0.1 transaction, locked; whether this report created it, and whether
    another session was open on its EVSE then (one the charger came back without).

    Every report after the first finds it with one statement. The first takes its charger's
    row lock before looking again: two sockets of one charger racing with it (or with its
    resend) take turns there, so the second finds the first's session instead of breaking the
    unique constraint, which only a savepoint could survive."""
    session = _locked_session(charger_id, transaction_id)
    if session is not None:
        return session, False, False
    charger = _locked_charger(charger_id)
    session = _locked_session(charger_id, transaction_id)
    if session is not None:
        return session, False, False
    opened = session_opened(report, now=now)
    # One fixed statement settles the usual case: nothing open on the EVSE to close.
    open_before = bool(opened.evse_id) and any_row(
        ChargingSession,
        charger_id=charger_id,
        evse_id=opened.evse_id,
        state=SessionState.ACTIVE.value,
    )
    session = ChargingSession.objects.create(
        charger_id=charger_id,
        transaction_id=transaction_id,
        site_id=charger.site_id,
        evse_id=opened.evse_id,
        connector_id=opened.connector_id,
        started_at=opened.started_at,
        timestamp_suspect=opened.timestamp_suspect,
    )
    return session, True, open_before
