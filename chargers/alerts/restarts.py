"""Restarts someone asked for: after a reset the charger accepted, a firmware install, or a
configuration change the charger said needs a restart, the charger's next restart is expected,
and its reports of it (a ResetOrReboot security event, a boot) are not incidents.

A cause explains the first restart after it, within `EXPECTED_WITHIN`: the boots recorded since
the cause tell whether that restart has happened already. A 2.0.1 reset "when idle" waits for
the running sessions to end, hence the generous window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from chargers.models import ChargerBoot, ChargerEvent, Command, CommandStatus, EventKind
from chargers.ocpp import readers
from chargers.ocpp.readers import FIRMWARE

EXPECTED_WITHIN = timedelta(hours=12)

# Security events that report the restart itself (OCPP security whitepaper, 2.0.1 appendix),
# and the one that reports new firmware, expected after an install.
RESTART_REPORTS = frozenset({"ResetOrReboot", "StartupOfTheDevice"})
FIRMWARE_REPORTS = frozenset({"FirmwareUpdated"})

# Firmware statuses sent before new firmware is installed; the charger then restarts to run it
# ("Installed" comes after that restart, and explains no later one).
INSTALL_STATUSES = frozenset({"Installing", "InstallRebooting", "InstallScheduled"})


def causes(charger_id: int, since: datetime) -> list[tuple[datetime, str, str]]:
    """(when, `readers.RESTART` or `FIRMWARE`, what) of each restart someone asked of the
    charger since `since`, oldest first."""
    found: list[tuple[datetime, str, str]] = []
    answered = Command.objects.filter(
        charger_id=charger_id, status=CommandStatus.ANSWERED, completed_at__gte=since
    ).only("action", "response", "completed_at")
    for command in answered:
        kind = readers.restart_asked(command.action, command.response)
        # An answered command has its completion time (the filter above asks for one).
        if kind is not None and command.completed_at is not None:
            found.append((command.completed_at, kind, f"{command.action} (command {command.pk})"))
    installs = ChargerEvent.objects.filter(
        charger_id=charger_id,
        kind=EventKind.FIRMWARE_STATUS,
        summary__in=INSTALL_STATUSES,
        at__gte=since,
    ).only("at", "summary")
    found += [(event.at, FIRMWARE, f"firmware {event.summary}") for event in installs]
    return sorted(found)


def expected_restart(
    charger_id: int, *, firmware: bool = False, now: datetime | None = None
) -> str | None:
    """What explains a restart (`firmware`: new firmware) of the charger reported now, or None
    when nothing does: a cause within `EXPECTED_WITHIN` after which the charger has booted at
    most once (this restart's boot)."""
    now = now or timezone.now()
    for at, kind, cause in reversed(causes(charger_id, now - EXPECTED_WITHIN)):
        if firmware and kind != FIRMWARE:
            continue
        if ChargerBoot.objects.filter(charger_id=charger_id, at__gt=at).count() <= 1:
            return cause
    return None


def unexpected_boots(charger_id: int, since: datetime) -> int:
    """Boots of the charger since `since` that no cause explains: a boot is explained by a
    cause recorded within `EXPECTED_WITHIN` before it and after the boot before it."""
    boots = list(
        ChargerBoot.objects.filter(charger_id=charger_id, at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)
    )
    if not boots:
        return 0
    previous = (
        ChargerBoot.objects.filter(charger_id=charger_id, at__lt=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    moments = [at for at, _, _ in causes(charger_id, since - EXPECTED_WITHIN)]
    unexplained = 0
    for boot in boots:
        explained = any(
            boot - EXPECTED_WITHIN <= at <= boot and (previous is None or at > previous)
            for at in moments
        )
        unexplained += not explained
        previous = boot
    return unexplained
