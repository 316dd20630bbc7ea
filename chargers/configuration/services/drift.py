"""Writes of configuration drift: a charger's settings compared with what its templates
desire, after its boot, after every configuration read or change, and when a template
changes; and the read a charger is asked for after its boot."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from chargers.configuration import selectors
from chargers.configuration.desired import attribute_of, same_value
from chargers.configuration.models import ApplyCommand, Drift, Protocol
from chargers.models import Charger, Command
from chargers.ocpp import builders

EPOCH = datetime.min.replace(tzinfo=timezone.get_fixed_timezone(0))


@transaction.atomic
def drift_refresh(*, charger_id: int, now: datetime | None = None) -> int:
    """Rewrite the charger's drift; returns how many settings drift. A setting drifts when the
    charger's value differs from the desired one (or it lacks the setting), or when it took
    the desired value only with a restart it has not had since. A setting nothing was read of
    yet is not compared."""
    now = now or timezone.now()
    # One refresh of a charger at a time: two would insert the same settings.
    charger = Charger.objects.select_for_update().filter(pk=charger_id).first()
    if charger is None:
        return 0
    desired = selectors.desired_for(charger)
    existing = {row.setting: row for row in Drift.objects.filter(charger=charger)}
    if not desired and not existing:
        return 0
    actual = selectors.actual_for(charger)
    waiting = reboot_pending(charger)
    drifting = {}
    for setting, wanted in desired.items():
        held = actual.value_of(setting)
        restart = setting in waiting
        if not restart and not selectors.knows(actual, setting):
            continue
        if restart or not same_value(wanted.value, held):
            drifting[setting] = (wanted, held, restart)
    Drift.objects.filter(charger=charger).exclude(setting__in=drifting).delete()
    for setting, (wanted, held, restart) in drifting.items():
        row = existing.get(setting)
        if row is None:
            row = Drift(charger=charger, setting=setting, since=now, tenant_id=charger.tenant_id)
        row.template_id = wanted.template_id
        row.desired = wanted.value
        row.actual = held
        row.reboot_required = restart
        row.save()
    return len(drifting)


def reboot_pending(charger: Charger) -> set[str]:
    """The settings the charger accepted only with a restart, in an apply answered since its
    last boot (and not accepted outright later)."""
    links = ApplyCommand.objects.filter(
        result__charger=charger, finished_at__gt=charger.last_boot_at or EPOCH
    ).order_by("finished_at", "pk")
    latest: dict[str, str] = {}
    for settings, statuses in links.values_list("settings", "statuses"):
        latest.update(zip(settings, statuses, strict=False))
    return {setting for setting, status in latest.items() if status == "reboot_required"}


def drift_refresh_or_read(*, charger_id: int) -> Command | None:
    """Refresh the charger's drift and, when it is online and some setting its templates
    name was never read from it (a template new to it), ask it for its values."""
    drift_refresh(charger_id=charger_id)
    charger = Charger.objects.filter(pk=charger_id, is_online=True).first()
    if charger is None:
        return None
    actual = selectors.actual_for(charger)
    if all(selectors.knows(actual, setting) for setting in selectors.desired_for(charger)):
        return None
    return configuration_read(charger_id=charger_id)


def configuration_read(*, charger_id: int) -> Command | None:
    """Ask a charger that templates apply to for the values they name (1.6: every key, which
    also tells which it lacks; 2.0.1: the attributes, in as many messages as it takes). Sent
    without waiting; the answer's `command.finished` brings the drift up to date."""
    charger = Charger.objects.filter(pk=charger_id).first()
    if charger is None:
        return None
    desired = selectors.desired_for(charger)
    if not desired:
        return None
    if selectors.protocol_of(charger) == Protocol.V201:
        attributes = [attribute_of(wanted.entry) for wanted in desired.values()]
        request = builders.get_variables(charger, attributes=attributes)
    else:
        request = builders.get_configuration(charger)
    return builders.perform(charger, request, wait=False, source="configuration")
