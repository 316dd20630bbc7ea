"""Texts the charging core writes for people to read later (`cpms.texts`).

A session's stop reason is the charger's word (an OCPP value, shown as it is) unless the server
closed the session: then it is `integrity.STALE_STOP_REASON`, a value integrators filter on and
the integrity checks look for, so it stays as stored and is read back into its message here.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_noop

from chargers.integrity import STALE_STOP_REASON
from cpms.texts import localized, message

STALE_STOP = message("session.stop.stale", gettext_noop("No stop after %(hours)s h"))
_STALE = re.compile(re.escape(STALE_STOP_REASON).replace(r"\{hours\}", r"(?P<hours>\d+)"))


def stop_reason_shown(reason: str) -> str:
    """A session's stop reason in the reader's language: the server's own in words, the
    charger's as sent."""
    found = _STALE.fullmatch(reason or "")
    if found is None:
        return reason
    return localized(STALE_STOP(hours=int(found["hours"])), reason)
