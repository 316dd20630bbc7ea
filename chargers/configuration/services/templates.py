"""Writes of configuration templates: created, changed and deleted with their entries, each
checked first; the drift of every charger the template matched before or matches now is
recomputed once the change is committed."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from chargers.configuration import selectors
from chargers.configuration.desired import ENTRY_FIELDS, entry_problem, setting_name
from chargers.configuration.memo import has_templates
from chargers.configuration.models import VALUE_LENGTH, ConfigTemplate, Protocol, TemplateEntry
from chargers.models import DeviceModelVariable
from chargers.ocpp import readers
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.handoff import queue_task
from cpms.models import Site

# How many of the template's chargers are asked whether they reported a key read-only: a
# check on save, not an audit of a fleet of thousands.
READONLY_CHECKED = 200


@transaction.atomic
def template_create(
    *,
    name: str,
    protocol: str,
    entries: list[dict[str, Any]],
    vendor: str = "",
    model: str = "",
    site: Site | None = None,
) -> ConfigTemplate:
    template = ConfigTemplate(name=name, protocol=protocol, vendor=vendor, model=model, site=site)
    _check(template, entries)
    template.save()
    _store_entries(template, entries)
    audit.record(
        action=Verb.CREATE,
        object_type=ObjectType.CONFIG_TEMPLATE,
        target=template,
        changes=audit.new_values({**audit.snapshot(template), **_settings_of(entries)}),
    )
    _recompute_after_commit(template, before=set())
    return template


@transaction.atomic
def template_update(
    *,
    template: ConfigTemplate,
    entries: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> ConfigTemplate:
    """Change the template's fields named in `changes` (name, protocol, vendor, model, site)
    and, when given, replace its entries."""
    template = ConfigTemplate.objects.select_for_update().get(pk=template.pk)
    before = set(selectors.chargers_of(template).values_list("pk", flat=True))
    unknown = set(changes) - {"name", "protocol", "vendor", "model", "site"}
    if unknown:
        raise ValidationError(
            {field: gettext("This field cannot be changed.") for field in unknown}
        )
    old = {**audit.snapshot(template), **_settings_of(_stored_entries(template))}
    for field, value in changes.items():
        setattr(template, field, value)
    if entries is None:
        entries = _stored_entries(template)
    _check(template, entries)
    template.save()
    template.entries.all().delete()
    _store_entries(template, entries)
    difference = audit.diff(old, {**audit.snapshot(template), **_settings_of(entries)})
    if difference:
        audit.record(
            action=Verb.UPDATE,
            object_type=ObjectType.CONFIG_TEMPLATE,
            target=template,
            changes=difference,
        )
    _recompute_after_commit(template, before=before)
    return template


@transaction.atomic
def template_delete(*, template: ConfigTemplate) -> None:
    before = set(selectors.chargers_of(template).values_list("pk", flat=True))
    tenant_id = template.tenant_id
    audit.deleted(template, ObjectType.CONFIG_TEMPLATE)
    template.delete()
    _queue_recompute(tenant_id, before)


def _check(template: ConfigTemplate, entries: list[dict[str, Any]]) -> None:
    """Refuse what a template cannot be, naming the field."""
    errors: dict[str, list[str]] = {}
    template.name = (template.name or "").strip()
    if not template.name:
        errors["name"] = ["Name the template."]
    elif ConfigTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk).exists():
        errors["name"] = ["Another template has this name."]
    if template.protocol not in Protocol.values:
        errors["protocol"] = [f"Choose one of {', '.join(Protocol.values)}."]
    if not entries:
        errors["entries"] = ["Give at least one setting and its value."]
    if errors:
        raise ValidationError(errors)
    problems = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        problem = _entry_problem(entry, protocol=template.protocol)
        if problem is None:
            name = setting_name(_Fields(entry))
            if name.lower() in seen:
                problem = f"{name} is named twice."
            seen.add(name.lower())
        if problem:
            problems.append(f"Entry {number}: {problem}")
    problems += _readonly_problems(template, entries)
    if problems:
        raise ValidationError({"entries": problems})


def _entry_problem(entry: dict[str, Any], *, protocol: str) -> str | None:
    unknown = set(entry) - {*ENTRY_FIELDS, "value"}
    if unknown:
        return f"unknown field {', '.join(sorted(unknown))}."
    if not isinstance(entry.get("value"), str):
        return "value: give the value as a string."
    if len(entry["value"]) > VALUE_LENGTH:
        return f"value: at most {VALUE_LENGTH} characters."
    for number in ("evse_id", "connector_id"):
        if not isinstance(entry.get(number, 0), int) or entry.get(number, 0) < 0:
            return f"{number}: a whole number, 0 for none."
    if _is_credential(entry):
        return "a charger's password is set on its credentials page, not by a template."
    return entry_problem(entry, protocol=protocol)


def _is_credential(entry: dict[str, Any]) -> bool:
    key, variable = (entry.get("key") or "").lower(), (entry.get("variable") or "").lower()
    return key == readers.AUTHORIZATION_KEY.lower() or variable == (
        readers.BASIC_AUTH_VARIABLE.lower()
    )


class _Fields:
    """An entry's dict read as an entry, its fields defaulting to none."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.key = entry.get("key") or ""
        self.component = entry.get("component") or ""
        self.component_instance = entry.get("component_instance") or ""
        self.evse_id = entry.get("evse_id") or 0
        self.connector_id = entry.get("connector_id") or 0
        self.variable = entry.get("variable") or ""
        self.variable_instance = entry.get("variable_instance") or ""
        self.attribute_type = entry.get("attribute_type") or "Actual"


def _readonly_problems(template: ConfigTemplate, entries: list[dict[str, Any]]) -> list[str]:
    """A setting that one of the template's chargers reported read-only cannot be desired."""
    chargers = list(selectors.chargers_of(template)[:READONLY_CHECKED])
    if not chargers:
        return []
    if template.protocol == Protocol.V201:
        rows = DeviceModelVariable.objects.filter(charger__in=chargers, mutability="ReadOnly")
        readonly: dict[str, list[str]] = {}
        for row in rows.select_related("charger"):
            name = setting_name(_Fields({"attribute_type": "Actual", **_row_fields(row)}))
            readonly.setdefault(name.lower(), []).append(row.charger.identity)
    else:
        readonly = selectors.readonly_settings(chargers)
    problems = []
    for number, entry in enumerate(entries, start=1):
        name = setting_name(_Fields(entry))
        if name.lower() in readonly:
            where = ", ".join(sorted(readonly[name.lower()])[:3])
            problems.append(f"Entry {number}: {name} is read-only (as {where} reported).")
    return problems


def _row_fields(row: DeviceModelVariable) -> dict[str, Any]:
    return {field: getattr(row, field) for field in ENTRY_FIELDS if field != "key"}


def _settings_of(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """A template's entries as the audit log shows them: each setting's name and value
    (credentials are refused in templates, so no value here is a secret)."""
    return {setting_name(_Fields(entry)): entry.get("value") for entry in entries}


def _stored_entries(template: ConfigTemplate) -> list[dict[str, Any]]:
    return [
        {**{f: getattr(e, f) for f in ENTRY_FIELDS}, "value": e.value}
        for e in template.entries.all()
    ]


def _store_entries(template: ConfigTemplate, entries: list[dict[str, Any]]) -> None:
    TemplateEntry.objects.bulk_create(
        TemplateEntry(
            tenant_id=template.tenant_id,
            template=template,
            position=position,
            value=entry["value"],
            **{field: entry[field] for field in ENTRY_FIELDS if entry.get(field) is not None},
        )
        for position, entry in enumerate(entries)
    )


def _recompute_after_commit(template: ConfigTemplate, *, before: set[int]) -> None:
    after = set(selectors.chargers_of(template).values_list("pk", flat=True))
    _queue_recompute(template.tenant_id, before | after)


def _queue_recompute(tenant_id: int, charger_ids: set[int]) -> None:
    has_templates.forget(tenant_id)
    if not charger_ids:
        return
    from chargers.configuration.tasks import template_changed

    ids = sorted(charger_ids)
    transaction.on_commit(
        lambda: queue_task(template_changed, tenant_id=tenant_id, charger_ids=ids)
    )
