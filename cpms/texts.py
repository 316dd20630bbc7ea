"""Texts the server writes now and people read later, each person in their own language.

A stored text is a message code and its parameters: `{"code": "alert.offline.title",
"params": {"charger": "CP-1"}}`. The code names a `Message` registered here by the module that
writes it (its English msgid marked with `gettext_noop`, so `make messages` finds it); the
reader's language is applied when the text is shown (`localized`, the `|text` template filter).
The row's plain column keeps the English rendering (`english`): the API's existing fields stay
as they were, and rows written before a code existed show that column.

A parameter is a plain value (a name, a count, an OCPP value: shown as it is; a float: with the
reader's decimal separator), a date (`{"date": "2026-01-31"}`: in the reader's date order), a
word the catalogs translate (`{"word": "Downloading"}`: a choice's label, given as the lazy
label) or another stored text (rendered in the same language: words within a sentence).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext

Text = dict[str, Any]


@dataclass(frozen=True)
class Message:
    code: str
    msgid: str

    def __call__(self, **params: Any) -> Text:
        """The text to store: this message with `params`."""
        return {"code": self.code, "params": {k: _storable(v) for k, v in params.items()}}


# Every message a stored text may name, by code. Codes are a contract with integrators (the
# API returns them): a message's wording may change, its code does not.
MESSAGES: dict[str, Message] = {}


def message(code: str, msgid: str) -> Message:
    """Register the message `code` (a msgid marked with `gettext_noop` at the call)."""
    known = MESSAGES.get(code)
    if known is not None and known.msgid != msgid:
        raise ValueError(f"the text code {code!r} names two messages")
    MESSAGES[code] = Message(code, msgid)
    return MESSAGES[code]


def word(label: Promise, *, lower: bool = False) -> dict[str, Any]:
    """A parameter that is a lazy label (a choice's): its msgid, rendered through the catalogs
    when shown; `lower` for a label inside a sentence."""
    with translation.override(None):
        return {"word": str(label), "lower": lower}


def _storable(value: Any) -> Any:
    if isinstance(value, Promise):
        return word(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()[:10]}
    return value


def _is_text(value: Any) -> bool:
    return isinstance(value, dict) and "code" in value


def _shown(value: Any, translate: bool) -> Any:
    if _is_text(value):
        return _render(value, translate)
    if isinstance(value, dict) and "word" in value:
        shown = gettext(value["word"]) if translate else value["word"]
        return shown.lower() if value.get("lower") else shown
    if isinstance(value, dict) and "date" in value:
        if not translate:
            return value["date"]
        from cpms.languages import date_pattern

        day = datetime.date.fromisoformat(value["date"])
        return formats.date_format(day, date_pattern())
    if isinstance(value, float):
        shown = f"{round(value, 1):g}"
        return formats.localize(Decimal(shown), use_l10n=True) if translate else shown
    return "" if value is None else value


def _render(text: Text, translate: bool) -> str:
    known = MESSAGES.get(text.get("code", ""))
    if known is None:
        return ""
    params = {k: _shown(v, translate) for k, v in (text.get("params") or {}).items()}
    msgid = gettext(known.msgid) if translate else known.msgid
    try:
        return msgid % params
    except (KeyError, TypeError, ValueError):
        # A stored text whose parameters no longer fit the message: the English is stored too.
        return known.msgid % params if translate else ""


def english(text: Text) -> str:
    """The text in English, the msgid itself (no catalog: the allocator calls this per
    connector), for the row's plain column."""
    return _render(text, translate=False)


def columns(value: Text | str) -> tuple[str, Text | None]:
    """The plain column (English) and the text column of what a writer hands over: a text, or
    a plain string that is nobody's message (a charger's own words)."""
    if isinstance(value, dict):
        return english(value), value
    return str(value), None


def localized(text: Text | None, stored: str = "") -> str:
    """The text in the active language; `stored` (the plain column) for a row without one."""
    if not _is_text(text):
        return stored
    return _render(text, translate=True) or stored  # type: ignore[arg-type]


def capitalized(label: object) -> str:
    """A label with its first letter in capitals and the rest as written ("Not on latest
    firmware", not CSS's "Not On Latest Firmware")."""
    shown = str(label)
    return shown[:1].upper() + shown[1:]
