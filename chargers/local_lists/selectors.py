"""Reads of local lists: the policy a charger follows, the list it should hold, the chargers
whose list is due a sync, and a charger's list as pages and the API show it.

A tenant's lists are worked out per policy, not per charger: the tokens are read once (one
query), each policy's list and digest computed once, and a charger is due only when its
confirmed digest differs from its policy's. 10,000 tokens and 1,000 chargers under one policy
is one token query, one charger query, one list query and one digest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from chargers.local_lists.entries import Entries, at_most, digest, row_of
from chargers.local_lists.models import (
    ChargerLocalList,
    LocalListPolicy,
    PolicyMode,
    SyncOutcome,
)
from chargers.models import Charger, DeviceModelVariable, IdToken, IdTokenStatus, RegistrationStatus
from chargers.ocpp import readers
from chargers.ocpp.builders import LOCAL_LIST_CONTROLLER, V16_ID_TAG_LENGTH, ListEntry, is_v2
from cpms.memo import TenantFacts

# Whether the tenant manages any list, remembered for a while so that a storm of boots asks
# once per tenant rather than once per boot. A policy changed here forgets the tenant at once;
# one changed in another process is seen when this expires (the tick covers the gap).
managing = TenantFacts(ttl=30.0)

# A step whose command has not come back after this long is given up on (commands time out
# well before: their timeout plus the stale-command sweep).
STEP_PATIENCE = timedelta(minutes=5)
# A charger whose list failed is not tried again by the beat before this.
RETRY_AFTER_FAILURE = timedelta(minutes=15)

TOKEN_FIELDS = (
    "pk",
    "uid",
    "type",
    "blocked",
    "expires_at",
    "group_id",
    "group__uid",
    "group__type",
    "group__blocked",
    "group__expires_at",
)


@dataclass
class Policies:
    """The tenant's policies, to resolve many chargers' policies without a query each."""

    tenant: LocalListPolicy | None = None
    by_site: dict[int, LocalListPolicy] = field(default_factory=dict)
    by_charger: dict[int, LocalListPolicy] = field(default_factory=dict)
    groups: dict[int, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Policies:
        policies = cls()
        for policy in LocalListPolicy.objects.prefetch_related("groups"):
            policies.groups[policy.pk] = frozenset(group.pk for group in policy.groups.all())
            if policy.charger_id is not None:
                policies.by_charger[policy.charger_id] = policy
            elif policy.site_id is not None:
                policies.by_site[policy.site_id] = policy
            else:
                policies.tenant = policy
        return policies

    def resolve(self, charger_id: int, site_id: int | None) -> LocalListPolicy | None:
        """The policy the charger follows (its own, its site's, the tenant's); None: its list
        is not managed."""
        policy = self.by_charger.get(charger_id)
        if policy is None and site_id is not None:
            policy = self.by_site.get(site_id)
        if policy is None:
            policy = self.tenant
        if policy is None or policy.mode == PolicyMode.OFF:
            return None
        return policy

    def any_managed(self) -> bool:
        every = [self.tenant, *self.by_site.values(), *self.by_charger.values()]
        return any(p is not None and p.mode != PolicyMode.OFF for p in every)


def policy_for(charger: Charger) -> LocalListPolicy | None:
    """The one charger's policy (at most three small queries); None: not managed."""
    policy = LocalListPolicy.objects.filter(charger=charger).first()
    if policy is None and charger.site_id is not None:
        policy = LocalListPolicy.objects.filter(site_id=charger.site_id).first()
    if policy is None:
        policy = LocalListPolicy.objects.filter(site__isnull=True, charger__isnull=True).first()
    return policy if policy is not None and policy.mode != PolicyMode.OFF else None


def _status(blocked: bool, expires_at: datetime | None, now: datetime) -> str:
    if blocked:
        return IdTokenStatus.BLOCKED
    if expires_at is not None and expires_at <= now:
        return IdTokenStatus.EXPIRED
    return IdTokenStatus.ACCEPTED


def _iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else ""


def _entry(token: dict[str, Any], now: datetime) -> ListEntry:
    # The verdict the charger gets online (`id_token_verdict`): a token of a blocked or
    # expired group takes its group's status.
    status = _status(token["blocked"], token["expires_at"], now)
    if status == IdTokenStatus.ACCEPTED and token["group_id"] is not None:
        status = _status(token["group__blocked"], token["group__expires_at"], now)
    return ListEntry(
        uid=token["uid"],
        type=token["type"],
        status=str(status),
        expires_at=_iso(token["expires_at"]),
        group_uid=token["group__uid"] or "",
        group_type=token["group__type"] or "",
    )


def token_rows(policy: LocalListPolicy | None = None, groups: Iterable[int] = ()) -> list[dict]:
    """The tokens a policy may list, as plain rows: one query."""
    tokens = IdToken.objects.all()
    if policy is not None and policy.mode == PolicyMode.GROUPS:
        ids = list(groups)
        tokens = tokens.filter(Q(group_id__in=ids) | Q(pk__in=ids))
    return list(tokens.values(*TOKEN_FIELDS))


def desired(
    policy: LocalListPolicy,
    tokens: Iterable[dict],
    *,
    groups: frozenset[int],
    v16: bool,
    now: datetime,
) -> Entries:
    """The list a charger under `policy` should hold. Blocked and expired tokens stay on it,
    marked so: a charger refuses a listed card offline, while one not on the list may still be
    accepted from its authorization cache or as an unknown card."""
    if policy.mode == PolicyMode.NONE:
        return {}
    entries: Entries = {}
    for token in tokens:
        if policy.mode == PolicyMode.GROUPS and not (
            token["group_id"] in groups or token["pk"] in groups
        ):
            continue
        if v16 and len(token["uid"]) > V16_ID_TAG_LENGTH:
            continue  # 1.6 idTags are at most 20 characters
        entries[token["uid"]] = row_of(_entry(token, now))
    return entries


class DesiredLists:
    """Many chargers' desired lists at once (the beat's sync): the policies and the tokens are
    read once, each policy's list computed once per OCPP version family."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.policies = Policies.load()
        self._tokens: list[dict] | None = None
        self._lists: dict[tuple[int, bool], Entries] = {}

    def of(self, charger: Charger) -> Entries | None:
        policy = self.policies.resolve(charger.pk, charger.site_id)
        if policy is None:
            return None
        v16 = not is_v2(charger)
        key = (policy.pk, v16)
        if key not in self._lists:
            if self._tokens is None:
                self._tokens = token_rows()
            groups = self.policies.groups[policy.pk]
            self._lists[key] = desired(policy, self._tokens, groups=groups, v16=v16, now=self.now)
        return self._lists[key]


def desired_for(
    charger: Charger, *, now: datetime | None = None, lists: DesiredLists | None = None
) -> Entries | None:
    """The list the charger should hold; None: its list is not managed. Alone, its policy and
    one token query; with `lists`, what those have worked out already."""
    if lists is not None:
        return lists.of(charger)
    policy = policy_for(charger)
    if policy is None:
        return None
    groups = frozenset(policy.groups.values_list("pk", flat=True))
    return desired(
        policy,
        token_rows(policy, groups),
        groups=groups,
        v16=not is_v2(charger),
        now=now or timezone.now(),
    )


def capacity_of_v2(charger_id: int) -> int | None:
    """The entries a 2.0.1 charger's list holds, if its device-model report said."""
    row = DeviceModelVariable.objects.filter(
        charger_id=charger_id, component=LOCAL_LIST_CONTROLLER, variable="Entries"
    ).first()
    return readers.list_capacity(row.characteristics) if row is not None else None


def busy(state: ChargerLocalList, now: datetime) -> bool:
    return (
        bool(state.step)
        and state.step_since is not None
        and now - state.step_since < (STEP_PATIENCE)
    )


def chargers_due(*, now: datetime | None = None) -> list[int]:
    """The connected chargers of the tenant whose list should be synchronised now: never
    synchronised, drifted, or holding another list than their policy's."""
    now = now or timezone.now()
    policies = Policies.load()
    if not policies.any_managed():
        return []
    states = {state.charger_id: state for state in ChargerLocalList.objects.defer("entries")}
    tokens: list[dict] | None = None
    digests: dict[tuple[int, bool, int | None], str] = {}
    due = []
    # Accepted ones only: a Pending charger is not acted on as if it were accepted.
    online = Charger.objects.filter(
        is_online=True, registration_status=RegistrationStatus.ACCEPTED
    ).values_list("pk", "site_id", "ocpp_version")
    for charger_id, site_id, version in online:
        policy = policies.resolve(charger_id, site_id)
        if policy is None:
            continue
        state = states.get(charger_id)
        if state is None:
            due.append(charger_id)
            continue
        if state.supported is False or busy(state, now):
            continue
        failed_lately = (
            state.last_outcome == SyncOutcome.FAILED
            and state.last_sync_at is not None
            and now - state.last_sync_at < RETRY_AFTER_FAILURE
        )
        if failed_lately:
            continue
        if state.needs_full or state.reported_version is None:
            due.append(charger_id)
            continue
        v16 = version not in ("2.0.1", "2.1")
        key = (policy.pk, v16, state.capacity)
        if key not in digests:
            if tokens is None:
                tokens = token_rows()
            groups = policies.groups[policy.pk]
            entries = desired(policy, tokens, groups=groups, v16=v16, now=now)
            digests[key] = digest(at_most(entries, state.capacity)[0])
        if digests[key] != state.entries_hash:
            due.append(charger_id)
    return due


@dataclass
class ListState:
    """A charger's list as its page and the API show it."""

    managed: bool
    state: ChargerLocalList | None
    in_sync: bool | None  # None: not known (never synchronised, or not managed)
    desired_count: int | None


def list_state(charger: Charger, *, lists: DesiredLists | None = None) -> ListState:
    """The charger's list, and whether it holds its policy's (`lists`: shared by a page of
    chargers, so the tokens are read once for the page)."""
    state = ChargerLocalList.objects.filter(charger=charger).first()
    wanted = desired_for(charger, lists=lists)
    if wanted is None:
        return ListState(managed=False, state=state, in_sync=None, desired_count=None)
    capacity = state.capacity if state is not None else None
    wanted, _ = at_most(wanted, capacity)
    in_sync = None
    if state is not None and state.reported_version is not None:
        in_sync = not state.needs_full and state.entries_hash == digest(wanted)
    return ListState(managed=True, state=state, in_sync=in_sync, desired_count=len(wanted))


@dataclass(frozen=True)
class ShownEntry:
    uid: str
    type: str
    status: str
    expires_at: str
    group: str


def shown_entries(state: ChargerLocalList | None) -> list[ShownEntry]:
    """The entries the charger confirmed, in uid order, for its page and the API."""
    if state is None:
        return []
    return [
        ShownEntry(uid, row[0], row[1], row[2], row[3])
        for uid, row in sorted(state.entries.items())
    ]
