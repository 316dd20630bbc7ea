"""Writes of local list policies: the tenant's, a site's or a charger's. A change reaches the
chargers at the beat's next sync (the lists' digests differ), or at once with "sync now"."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from chargers.local_lists.models import LocalListPolicy, PolicyMode
from chargers.local_lists.selectors import managing
from chargers.models import Charger, IdToken
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import Site


def _check(*, site: Site | None, charger: Charger | None, mode: str, groups: list[IdToken]) -> None:
    if mode not in PolicyMode.values:
        raise ValidationError(
            {
                "mode": [
                    gettext("Choose one of: %(modes)s.") % {"modes": ", ".join(PolicyMode.values)}
                ]
            }
        )
    if site is not None and charger is not None:
        raise ValidationError(
            {"charger": [gettext("A policy is for a site or a charger, not both.")]}
        )
    if mode == PolicyMode.GROUPS and not groups:
        raise ValidationError({"groups": [gettext("Choose at least one group for this mode.")]})


def _clash(policy: LocalListPolicy) -> None:
    others = LocalListPolicy.objects.exclude(pk=policy.pk)
    if policy.charger_id is not None:
        if others.filter(charger_id=policy.charger_id).exists():
            raise ValidationError({"charger": [gettext("This charger already has a policy.")]})
    elif policy.site_id is not None:
        if others.filter(site_id=policy.site_id).exists():
            raise ValidationError({"site": [gettext("This site already has a policy.")]})
    elif others.filter(site__isnull=True, charger__isnull=True).exists():
        raise ValidationError(
            {"site": [gettext("The tenant already has its policy; change that one.")]}
        )


@transaction.atomic
def local_list_policy_create(
    *,
    mode: str,
    site: Site | None = None,
    charger: Charger | None = None,
    groups: Iterable[IdToken] = (),
) -> LocalListPolicy:
    chosen = list(groups) if mode == PolicyMode.GROUPS else []
    _check(site=site, charger=charger, mode=mode, groups=chosen)
    policy = LocalListPolicy(site=site, charger=charger, mode=mode)
    _clash(policy)
    policy.save()
    policy.groups.set(chosen)
    audit.record(
        action=Verb.CREATE,
        object_type=ObjectType.LOCAL_LIST_POLICY,
        target=policy,
        changes=audit.new_values({**audit.snapshot(policy), "groups": _uids(chosen)}),
    )
    managing.forget(policy.tenant_id)
    return policy


def _uids(groups: Iterable[IdToken]) -> list[str]:
    return sorted(group.uid for group in groups)


@transaction.atomic
def local_list_policy_update(
    *, policy: LocalListPolicy, mode: str | None = None, groups: Iterable[IdToken] | None = None
) -> LocalListPolicy:
    """Change the mode and/or the groups (the scope of a policy stays what it is)."""
    mode = policy.mode if mode is None else mode
    chosen = list(policy.groups.all()) if groups is None else list(groups)
    if mode != PolicyMode.GROUPS:
        chosen = []
    _check(site=policy.site, charger=policy.charger, mode=mode, groups=chosen)
    old = {"mode": policy.mode, "groups": _uids(policy.groups.all())}
    policy.mode = mode
    policy.save()
    policy.groups.set(chosen)
    difference = audit.diff(old, {"mode": policy.mode, "groups": _uids(chosen)})
    if difference:
        audit.record(
            action=Verb.UPDATE,
            object_type=ObjectType.LOCAL_LIST_POLICY,
            target=policy,
            changes=difference,
        )
    managing.forget(policy.tenant_id)
    return policy


@transaction.atomic
def local_list_policy_set(
    *,
    mode: str,
    site: Site | None = None,
    charger: Charger | None = None,
    groups: Iterable[IdToken] = (),
) -> LocalListPolicy:
    """The policy of the scope (the tenant's when neither site nor charger), created or changed."""
    existing = LocalListPolicy.objects.filter(site=site, charger=charger).first()
    if existing is None:
        return local_list_policy_create(mode=mode, site=site, charger=charger, groups=groups)
    return local_list_policy_update(policy=existing, mode=mode, groups=groups)


def local_list_policy_delete(*, policy: LocalListPolicy) -> None:
    """A site's or charger's override removed: its chargers follow the next policy up."""
    with transaction.atomic():
        audit.deleted(policy, ObjectType.LOCAL_LIST_POLICY)
        policy.delete()
    managing.forget(policy.tenant_id)


def local_list_demo_policies(*, offices: Site, fleet_group: IdToken) -> None:
    """The demo's policies: every token on the lists, and at the offices only the fleet's
    cards. The simulated chargers get their lists when they boot (`make demo`)."""
    local_list_policy_set(mode=PolicyMode.ALL)
    local_list_policy_set(mode=PolicyMode.GROUPS, site=offices, groups=[fleet_group])
