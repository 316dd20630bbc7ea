"""Writes of the tenant's settings for its chargers: how often they beat and when a silent one
counts as offline, what happens when one comes back speaking another OCPP version, and
onboarding (unknown chargers presenting the tenant's onboarding password are registered as
Pending for an operator to approve).

The handshake and the boot reply read the tenant's row each time, so a change applies to each
charger at its next connection or boot; nothing is pushed to chargers already connected.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from chargers import credentials
from cpms import hashing
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.models import Tenant

HEARTBEAT_SECONDS = (30, 86_400)
OFFLINE_AFTER_HEARTBEATS = (2, 20)
# Tenant.settings key: "follow" records the version a charger now speaks, "refuse" turns it
# away until an operator changes the charger's registered version.
VERSION_CHANGE_SETTING = "ocpp_version_change"
VERSION_CHANGE_POLICIES = {
    "follow": "Accept it and record the new version",
    "refuse": "Refuse the connection",
}


# Tenant.settings key: hours a session may go without word from its charger before the server
# closes it (`sessions_close_stale`); 0 never closes one.
STALE_SESSION_SETTING = "close_sessions_after_hours"
STALE_SESSION_HOURS = (0, 8760)
STALE_SESSION_DEFAULT = 48


def stale_session_hours(tenant: Tenant) -> int:
    return int(tenant.settings.get(STALE_SESSION_SETTING, STALE_SESSION_DEFAULT))


def version_change_policy(tenant: Tenant) -> str:
    return str(tenant.settings.get(VERSION_CHANGE_SETTING, "follow"))


def _check_range(name: str, value: Any, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({name: [f"Use a whole number from {low} to {high}."]})


def fleet_settings_update(
    *,
    tenant: Tenant,
    heartbeat_interval: int | None = None,
    offline_after_heartbeats: int | None = None,
    version_change: str | None = None,
    close_sessions_after_hours: int | None = None,
) -> Tenant:
    """Change what is given; None keeps a setting. Raises ValidationError naming the field."""
    fields: dict[str, Any] = {}
    if heartbeat_interval is not None:
        _check_range("heartbeat_interval", heartbeat_interval, HEARTBEAT_SECONDS)
        fields["heartbeat_interval"] = heartbeat_interval
    if offline_after_heartbeats is not None:
        _check_range("offline_after_heartbeats", offline_after_heartbeats, OFFLINE_AFTER_HEARTBEATS)
        fields["offline_after_heartbeats"] = offline_after_heartbeats
    if version_change is not None:
        if version_change not in VERSION_CHANGE_POLICIES:
            choices = ", ".join(VERSION_CHANGE_POLICIES)
            raise ValidationError({"version_change": [f"Choose one of {choices}."]})
        fields["settings"] = {**tenant.settings, VERSION_CHANGE_SETTING: version_change}
    if close_sessions_after_hours is not None:
        _check_range("close_sessions_after_hours", close_sessions_after_hours, STALE_SESSION_HOURS)
        settings = fields.get("settings", tenant.settings)
        fields["settings"] = {**settings, STALE_SESSION_SETTING: close_sessions_after_hours}
    if fields:
        before = audit.snapshot(tenant, fields)
        with transaction.atomic():
            # Only these columns: the rest of the row (logo, name) is other writers'.
            Tenant.objects.filter(pk=tenant.pk).update(**fields)
            for name, value in fields.items():
                setattr(tenant, name, value)
            audit.changed(tenant, ObjectType.FLEET_SETTINGS, before=before)
    return tenant


def onboarding_open(*, tenant: Tenant, password: str | None = None) -> str:
    """Admit unknown chargers presenting `password` (a new random one when None) as Pending;
    returns it (shown to the operator once, never stored). The previous one stops working."""
    password = password or credentials.generate()
    problem = credentials.validate(password)
    if problem:
        raise ValidationError({"password": [problem]})
    fields = {
        "accept_unknown_chargers": True,
        "onboarding_password_hash": hashing.make_hash(password),
    }
    before = audit.snapshot(tenant, fields)
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(**fields)
        for name, value in fields.items():
            setattr(tenant, name, value)
        audit.changed(tenant, ObjectType.ONBOARDING, before=before, action=Verb.OPEN, always=True)
    return password


def onboarding_close(*, tenant: Tenant) -> None:
    """Unknown chargers are refused again; chargers already registered keep their passwords."""
    before = audit.snapshot(tenant, ["accept_unknown_chargers", "onboarding_password_hash"])
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(
            accept_unknown_chargers=False, onboarding_password_hash=""
        )
        tenant.accept_unknown_chargers = False
        tenant.onboarding_password_hash = ""
        audit.changed(tenant, ObjectType.ONBOARDING, before=before, action=Verb.CLOSE, always=True)
