"""Synchronising a charger's local list: a chain of commands, one at a time, each sent without
waiting and taken up again when its outcome is recorded (`local_list_command_finished`).

    probe    GetConfiguration (1.6) / GetVariables (2.0.1): does it keep a list, how big?
    version  GetLocalListVersion: does it hold the version it last confirmed? If not, the list
             drifted (a reset, a replaced board) and the next update is Full.
    update   SendLocalList: Full, or Differential with what changed since the confirmed list,
             version + 1, as many entries as the charger takes in one message; each accepted
             update becomes the confirmed list and the next step sends the rest.

A VersionMismatch or Failed answer to a differential update is repaired with a Full one; a
refused Full update ends the sync as failed (the beat tries again later). The state row is
locked while a step is decided and the command is sent after the decision commits; a step's
outcome is recognised by the command's source, action and time, so an outcome that arrives
before the step's command id is stored is not lost."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from chargers.local_lists import selectors
from chargers.local_lists.entries import (
    Change,
    applied,
    at_most,
    difference,
    digest,
    entry_of,
    first_chunk,
)
from chargers.local_lists.events import LocalListSynced
from chargers.local_lists.models import ChargerLocalList, SyncOutcome, SyncStep
from chargers.models import Charger, Command, CommandStatus
from chargers.ocpp import builders, readers
from cpms.events import publish
from cpms.models import User

log = logging.getLogger(__name__)

SOURCE = "local_list"
# A charger that names no limit of entries per update gets this many at most.
DEFAULT_PER_MESSAGE = 100
# The actions each step waits for.
STEP_ACTIONS = {
    SyncStep.PROBE: (readers.READ_KEYS, readers.READ_VARIABLES),
    SyncStep.VERSION: (readers.LOCAL_LIST_VERSION,),
    SyncStep.UPDATE: (readers.LOCAL_LIST_UPDATE,),
}
UNSUPPORTED_ERRORS = ("NotSupported", "NotImplemented")


def _locked_state(charger_id: int) -> ChargerLocalList:
    """The charger's state row, created when missing, locked till the transaction ends."""
    try:
        with transaction.atomic():
            state, _ = ChargerLocalList.objects.get_or_create(charger_id=charger_id)
    except IntegrityError:  # created meanwhile by another worker
        state = ChargerLocalList.objects.get(charger_id=charger_id)
    return ChargerLocalList.objects.select_for_update().get(pk=state.pk)


def _enter(state: ChargerLocalList, step: str, now: datetime) -> None:
    state.step, state.step_since, state.step_command = step, now, None


def _finish(state: ChargerLocalList, outcome: str, error: str = "", *, now: datetime) -> None:
    state.step, state.step_since, state.step_command = SyncStep.IDLE, None, None
    state.pending_version, state.pending_full, state.pending_entries = None, False, None
    state.last_sync_at, state.last_outcome, state.last_error = now, outcome, error[:300]
    state.save()
    publish(
        LocalListSynced(
            tenant_id=state.tenant_id,
            charger_id=state.charger_id,
            outcome=outcome,
            version=state.version,
            entries=len(state.entries),
        )
    )


def _dispatch(
    charger: Charger, request: builders.Request, state_id: int, requested_by: User | None
) -> None:
    """Send the step's command (after its decision committed) and note which it was."""
    command = builders.perform(
        charger, request, wait=False, source=SOURCE, requested_by=requested_by
    )
    ChargerLocalList.objects.filter(
        pk=state_id, step_command__isnull=True, step_since__lte=command.created_at
    ).exclude(step=SyncStep.IDLE).update(step_command=command)


def local_list_refresh(
    *, charger_id: int, requested_by: User | None = None, full: bool = False
) -> bool:
    """Synchronise from the start: the charger's limits, its version, then the updates (on
    boot, and when an operator asks). `full` replaces the whole list whatever the version.
    Returns whether a sync started (not when the list is not managed or a sync is under way)."""
    now = timezone.now()
    with transaction.atomic():
        charger = Charger.objects.get(pk=charger_id)
        if selectors.policy_for(charger) is None:
            return False
        state = _locked_state(charger_id)
        if selectors.busy(state, now):
            return False
        if full:
            state.needs_full = True
        _enter(state, SyncStep.PROBE, now)
        state.save()
        request = builders.local_list_capabilities(charger)
    _dispatch(charger, request, state.pk, requested_by)
    return True


def local_list_sync(
    *,
    charger_id: int,
    requested_by: User | None = None,
    lists: selectors.DesiredLists | None = None,
) -> bool:
    """Bring the charger's list up to its policy's: the next update at once when its limits
    and version are known, else from the start. Returns whether a command went out. `lists`
    shares the desired lists between the chargers of one sweep."""
    now = timezone.now()
    with transaction.atomic():
        charger = Charger.objects.get(pk=charger_id)
        if selectors.policy_for(charger) is None:
            return False
        state = _locked_state(charger_id)
        if selectors.busy(state, now) or state.supported is False:
            return False
        if state.supported is None or state.reported_version is None:
            _enter(state, SyncStep.PROBE, now)
            state.save()
            request: builders.Request | None = builders.local_list_capabilities(charger)
        else:
            request = _next_update(state, charger, now, lists)
    if request is None:
        return False
    _dispatch(charger, request, state.pk, requested_by)
    return True


def _next_update(
    state: ChargerLocalList,
    charger: Charger,
    now: datetime,
    lists: selectors.DesiredLists | None = None,
) -> builders.Request | None:
    """The next SendLocalList, with the state entered into its step; None when the charger
    holds its policy's list (the sync is then finished as in sync)."""
    wanted = selectors.desired_for(charger, now=now, lists=lists)
    if wanted is None:
        _finish(state, SyncOutcome.IN_SYNC, "The list is no longer managed.", now=now)
        return None
    capacity = state.capacity
    wanted, left_off = at_most(wanted, capacity)
    note = f"{left_off} tokens left off: the charger holds {capacity}." if left_off else ""
    if state.needs_full:
        base: dict[str, list[str]] = {}
        changes: list[Change] = [(uid, row) for uid, row in sorted(wanted.items())]
    else:
        base = state.entries
        changes = difference(state.entries, wanted)
        if not changes:
            _finish(state, SyncOutcome.IN_SYNC, note, now=now)
            return None
    version = state.version + 1
    full = state.needs_full

    def request_of(chunk: list[Change]) -> builders.Request:
        return builders.send_local_list(
            charger,
            version=version,
            full=full,
            entries=[(uid, entry_of(uid, row) if row else None) for uid, row in chunk],
            removed_types={uid: row[0] for uid, row in state.entries.items()},
        )

    chunk = first_chunk(
        changes,
        per_message=state.per_message or DEFAULT_PER_MESSAGE,
        size_of=lambda part: builders.request_bytes(request_of(list(part))),
        bytes_per_message=state.bytes_per_message,
    )
    _enter(state, SyncStep.UPDATE, now)
    state.pending_version, state.pending_full = version, full
    state.pending_entries = applied(base, chunk)
    state.last_error = note
    state.save()
    return request_of(chunk)


def local_list_command_finished(*, command_id: int) -> bool:
    """Take the sync up again when one of its commands has its outcome. Returns whether the
    command was the step's (others, an operator's own GetConfiguration say, are ignored)."""
    now = timezone.now()
    command = Command.objects.filter(pk=command_id, source=SOURCE).first()
    if command is None:
        return False
    with transaction.atomic():
        state = (
            ChargerLocalList.objects.select_for_update()
            .filter(charger_id=command.charger_id)
            .first()
        )
        if (
            state is None
            or state.step_since is None
            or command.created_at < state.step_since
            or command.action not in STEP_ACTIONS.get(SyncStep(state.step), ())
            or state.step_command_id not in (None, command.pk)
        ):
            return False
        charger = Charger.objects.get(pk=command.charger_id)
        request = _next_step(state, charger, command, now)
    if request is not None:
        _dispatch(charger, request, state.pk, command.requested_by)
    return True


def _unanswered(state: ChargerLocalList, command: Command, now: datetime) -> bool:
    """Ends the sync when the command got no answer to go on from; whether it did."""
    if command.status == CommandStatus.ANSWERED:
        return False
    if command.status == CommandStatus.CALL_ERROR and command.error.startswith(UNSUPPORTED_ERRORS):
        state.supported = False
        state.support_note = f"The charger answered {command.action} with {command.error}"[:200]
        _finish(state, SyncOutcome.UNSUPPORTED, state.support_note, now=now)
    elif command.status == CommandStatus.OFFLINE:
        _finish(state, SyncOutcome.OFFLINE, command.error, now=now)
    else:
        _finish(state, SyncOutcome.FAILED, f"{command.action}: {command.error}", now=now)
    return True


def _next_step(
    state: ChargerLocalList, charger: Charger, command: Command, now: datetime
) -> builders.Request | None:
    step = state.step
    if step == SyncStep.PROBE:
        if command.status == CommandStatus.ANSWERED:
            capabilities = readers.list_capabilities(command.action, command.response)
            state.supported = capabilities.supported
            state.support_note = capabilities.reason
            state.capacity = capabilities.capacity
            if state.capacity is None and builders.is_v2(charger):
                # 2.0.1 says it as the maxLimit of LocalAuthListCtrlr.Entries, in its report.
                state.capacity = selectors.capacity_of_v2(charger.pk)
            state.per_message = capabilities.per_message
            state.bytes_per_message = capabilities.bytes_per_message
            state.capabilities_at = now
            if capabilities.supported is False:
                _finish(state, SyncOutcome.UNSUPPORTED, capabilities.reason, now=now)
                return None
        elif command.status != CommandStatus.CALL_ERROR and _unanswered(state, command, now):
            return None
        # Limits unknown (the charger would not say): the version decides whether it has a list.
        _enter(state, SyncStep.VERSION, now)
        state.save()
        return builders.local_list_version(charger)
    if _unanswered(state, command, now):
        return None
    if step == SyncStep.VERSION:
        version = readers.list_version(command.response)
        if version is None:
            _finish(state, SyncOutcome.FAILED, "No version in the charger's reply.", now=now)
            return None
        if version < 0:
            state.supported = False
            state.support_note = "The charger reports no local list (version -1)."
            _finish(state, SyncOutcome.UNSUPPORTED, state.support_note, now=now)
            return None
        state.supported = True
        state.reported_version = version
        if version != state.version:
            # Drift: the charger holds another list than the one it confirmed.
            log.info("local list of %s drifted: %s, not %s", charger, version, state.version)
            state.needs_full = True
        return _next_update(state, charger, now)
    # The update's answer.
    status = readers.list_update_status(command.response)
    if status == readers.LIST_ACCEPTED:
        state.version = state.pending_version or state.version + 1
        state.entries = state.pending_entries or {}
        state.entries_hash = digest(state.entries)
        state.reported_version = state.version
        state.needs_full = False
        return _next_update(state, charger, now)
    if status == readers.LIST_NOT_SUPPORTED:
        state.supported = False
        state.support_note = "The charger answered SendLocalList with NotSupported."
        _finish(state, SyncOutcome.UNSUPPORTED, state.support_note, now=now)
        return None
    if not state.pending_full:
        # VersionMismatch or Failed to a differential update: the full list repairs it.
        state.needs_full = True
        return _next_update(state, charger, now)
    state.needs_full = True
    _finish(state, SyncOutcome.FAILED, f"The charger refused the full list: {status}.", now=now)
    return None
