"""Charger tags: short slugs an operator groups chargers by ("depot", "beta-firmware"), kept
as a JSON list on the charger. The one rule for a tag and the one filter on them, for every door
(the fleet list, the API, firmware campaigns).

A list column rather than a Tag model: a charger carries a handful of tags, and a column is read
with the row (the fleet table, the CSV's tuples) without a join or a prefetch per page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MAX_TAGS = 20
MAX_LENGTH = 40
_TAG = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_LENGTH - 1}}}")


def validate_tag(value: str) -> None:
    """One tag: 1 to 40 lowercase letters, digits, "-" or "_", starting with a letter or digit."""
    if not isinstance(value, str) or not is_tag(value):
        raise ValidationError(
            gettext("%(tag)s is not a tag: use 1 to %(max)s lowercase letters, digits, - or _.")
            % {"tag": repr(value)[:50], "max": MAX_LENGTH},
            code="invalid_tag",
        )


def is_tag(value: str) -> bool:
    return bool(_TAG.fullmatch(value))


def clean_tags(values: Iterable[str]) -> list[str]:
    """The tags as stored: trimmed, lowercased, each once, in the order given. Raises
    ValidationError (its messages name the tag) for a tag the rule refuses or too many."""
    cleaned: list[str] = []
    for value in values:
        tag = value.strip().lower() if isinstance(value, str) else value
        validate_tag(tag)
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(
            gettext("At most %(max)s tags.") % {"max": MAX_TAGS}, code="too_many_tags"
        )
    return cleaned


def validate_tags(value: object) -> None:
    """The model field's validator (the admin): a list of valid tags."""
    if not isinstance(value, list):
        raise ValidationError(gettext("A list of tags."), code="invalid_tags")
    if clean_tags(value) != value:
        raise ValidationError(gettext("Tags are lowercase, each given once."), code="invalid_tags")


def split(text: str) -> list[str]:
    """Tags typed in one input, separated by commas or spaces."""
    return [part for part in re.split(r"[,\s]+", text or "") if part]


def tagged(tag: str) -> Q:
    """Chargers carrying `tag` (a valid one: the SQLite form relies on the rule)."""
    if connection.features.supports_json_field_contains:
        return Q(tags__contains=[tag])
    # SQLite has no JSON containment: match the quoted element in the stored JSON text. A tag
    # holds no quote, so `"depot"` matches the whole element depot and nothing else.
    return Q(tags__icontains=f'"{tag}"')


def tagged_any(tags: Iterable[str]) -> Q:
    """Chargers carrying at least one of `tags` (none: every charger)."""
    found = Q()
    for tag in tags:
        found |= tagged(tag)
    return found


class TagsField(forms.CharField):
    """Tags typed in one input, separated by commas or spaces, cleaned to the stored list (the
    charger's form and page, a campaign's filter)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault(
            "help_text",
            _("Separated by commas: lowercase letters, digits, - or _ (at most 20)."),
        )
        super().__init__(required=False, max_length=1000, **kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value):
        return clean_tags(split(super().clean(value)))
