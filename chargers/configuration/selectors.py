"""Reads of the configuration domain: which templates apply to a charger and what it desires,
what the charger holds now (1.6: its answered configuration reads and accepted changes;
2.0.1: its device model), which settings it reported read-only. Run in the tenant's scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from chargers.configuration.desired import Desired, attribute_setting, effective
from chargers.configuration.models import ConfigTemplate, Drift, Protocol
from chargers.models import Charger, Command, CommandStatus, DeviceModelVariable, OcppVersion
from chargers.ocpp import readers
from chargers.services.device_model import IDENTITY, AttributeId

# How many of a 1.6 charger's latest configuration reads and changes are looked through for
# its current values: a read of every key answers all at once, so a few suffice.
RECENT_COMMANDS = 50
V2_VERSIONS = (OcppVersion.V201, OcppVersion.V21)


def protocol_of(charger: Charger) -> str | None:
    """The template protocol a charger speaks, or None before it ever connected."""
    if charger.ocpp_version == OcppVersion.V16:
        return Protocol.V16
    if charger.ocpp_version in V2_VERSIONS:
        return Protocol.V201
    return None


def templates_for(charger: Charger) -> list[ConfigTemplate]:
    """The templates that apply to `charger`, with their entries."""
    protocol = protocol_of(charger)
    if protocol is None:
        return []
    matching = (
        ConfigTemplate.objects.filter(protocol=protocol)
        .filter(Q(vendor="") | Q(vendor__iexact=charger.vendor))
        .filter(Q(model="") | Q(model__iexact=charger.model))
        .filter(Q(site__isnull=True) | Q(site_id=charger.site_id))
    )
    return list(matching.select_related("site").prefetch_related("entries"))


def desired_for(charger: Charger) -> dict[str, Desired]:
    """Per setting, the value the charger should hold and the template it comes from."""
    return effective(templates_for(charger))


def chargers_of(template: ConfigTemplate) -> QuerySet[Charger]:
    """Every charger the template matches (whether or not a more specific template overrides
    some of its settings)."""
    versions = [OcppVersion.V16] if template.protocol == Protocol.V16 else list(V2_VERSIONS)
    chargers = Charger.objects.filter(ocpp_version__in=versions)
    if template.vendor:
        chargers = chargers.filter(vendor__iexact=template.vendor)
    if template.model:
        chargers = chargers.filter(model__iexact=template.model)
    if template.site_id:
        chargers = chargers.filter(site_id=template.site_id)
    return chargers


@dataclass(frozen=True)
class Actual:
    """What a charger holds now: per setting its value (None: it does not report the
    setting), and whether anything was read from it at all."""

    values: dict[str, str | None]
    read: bool
    readonly: frozenset[str] = frozenset()
    # Whether a setting the reads do not mention is missing on the charger (1.6: after a
    # read of every key; 2.0.1: once any of its device model was reported), rather than
    # not yet known.
    complete: bool = False

    def value_of(self, setting: str) -> str | None:
        return self.values.get(setting.lower())


def actual_for(charger: Charger) -> Actual:
    if protocol_of(charger) == Protocol.V201:
        return _device_model(charger)
    return _configuration_keys(charger)


def _configuration_keys(charger: Charger) -> Actual:
    """1.6: newest first, each key's latest word: a read that lists it (or says it is unknown,
    or reads every key without it: missing), or an accepted change."""
    commands = Command.objects.filter(
        charger=charger,
        action__in=(readers.READ_KEYS, readers.CHANGE_KEY),
        status=CommandStatus.ANSWERED,
    ).order_by("-completed_at", "-pk")[:RECENT_COMMANDS]
    values: dict[str, str | None] = {}
    readonly: set[str] = set()
    decided: set[str] = set()
    every_key_read = False
    for action, payload, reply in commands.values_list("action", "payload", "response"):
        if action == readers.CHANGE_KEY:
            key = readers.changed_key(action, payload)
            if key and readers.change_outcomes(action, payload, reply) == ["accepted"]:
                _decide(values, decided, key.lower(), str(payload.get("value", "")))
            continue
        for entry in readers.configuration_keys(reply):
            name = entry.key.lower()
            if entry.readonly:
                readonly.add(name)
            _decide(values, decided, name, entry.value)
        for name in readers.unknown_keys(reply):
            _decide(values, decided, name.lower(), None)
        if readers.keys_asked(action, payload) is None:
            every_key_read = True
            break  # older commands know nothing this full read does not say better
    read = every_key_read or bool(decided)
    return Actual(values=values, read=read, readonly=frozenset(readonly), complete=every_key_read)


def _decide(values: dict[str, str | None], decided: set[str], name: str, value) -> None:
    if name not in decided:
        decided.add(name)
        values[name] = value


def _device_model(charger: Charger) -> Actual:
    rows = DeviceModelVariable.objects.filter(charger=charger).values(
        *IDENTITY, "value", "mutability"
    )
    values: dict[str, str | None] = {}
    readonly: set[str] = set()
    for row in rows:
        name = attribute_setting(AttributeId(**{field: row[field] for field in IDENTITY}))
        name = name.lower()
        # A write-only attribute (a password) is never read back: its value is unknown.
        values[name] = None if row["mutability"] == "WriteOnly" else row["value"]
        if row["mutability"] == "ReadOnly":
            readonly.add(name)
    read = bool(values)
    return Actual(values=values, read=read, readonly=frozenset(readonly), complete=read)


def knows(actual: Actual, setting: str) -> bool:
    """Whether the charger's reads say anything of `setting` (a value, or that it is
    missing), so that it can be compared."""
    return setting.lower() in actual.values or actual.complete


def readonly_settings(chargers: Iterable[Charger]) -> dict[str, list[str]]:
    """Per setting (lower case), the chargers that reported it read-only."""
    found: dict[str, list[str]] = {}
    for charger in chargers:
        for name in actual_for(charger).readonly:
            found.setdefault(name, []).append(charger.identity)
    return found


def drift_of(charger: Charger) -> QuerySet[Drift]:
    return Drift.objects.filter(charger=charger).select_related("template")


@dataclass(frozen=True)
class SettingRow:
    """One desired setting of a charger, as its page and the API show it."""

    setting: str
    desired: str
    actual: str | None
    template: int
    template_name: str
    drift: bool
    missing: bool
    reboot_required: bool
    since: datetime | None


def charger_configuration(charger: Charger) -> tuple[list[SettingRow], bool]:
    """The charger's effective desired settings with their source and what it holds, and
    whether anything was read from it yet."""
    desired = desired_for(charger)
    actual = actual_for(charger)
    drifting = {row.setting: row for row in drift_of(charger)}
    rows = []
    for setting, wanted in sorted(desired.items()):
        drift = drifting.get(setting)
        held = drift.actual if drift else actual.value_of(setting)
        rows.append(
            SettingRow(
                setting=setting,
                desired=wanted.value,
                actual=held,
                template=wanted.template_id,
                template_name=wanted.template_name,
                drift=drift is not None,
                missing=drift is not None and drift.actual is None,
                reboot_required=bool(drift and drift.reboot_required),
                since=drift.since if drift else None,
            )
        )
    return rows, actual.read


def drift_counts(charger_ids: Iterable[int]) -> dict[int, int]:
    """How many settings drift, per charger (those without drift left out)."""
    rows = (
        Drift.objects.filter(charger_id__in=list(charger_ids))
        .values("charger_id")
        .annotate(count=Count("id"))
        .values_list("charger_id", "count")
    )
    return dict(rows)
