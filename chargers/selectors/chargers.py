"""Reads of one charger, shaped for the OCPP door: one query per connection."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.db import connection

from chargers.models import (
    Charger,
    ChargerEvent,
    EventKind,
    OcppVersion,
)
from chargers.ocpp.readers import FIRMWARE_STAGES
from cpms.models import Tenant
from cpms.tenancy import rows

# A 1.6 charger that sent any of these speaks the security whitepaper's extension
# (SignedUpdateFirmware, GetLog); 1.6 has no other way to say so.
SECURITY_EXTENSION_EVENTS = (
    EventKind.SECURITY_EVENT,
    EventKind.SIGNED_FIRMWARE_STATUS,
    EventKind.LOG_STATUS,
)


def charger_for_handshake(*, tenant_slug: str, identity: str) -> Charger | None:
    """The charger an OCPP URL names, with its tenant, if that tenant is active: one fixed
    statement for the whole door on every connection of a fleet (compiling the ORM's join
    for each of a storm's thousands was a tenth of the server's work). The slug names the
    tenant, so the lookup is not scoped and filters by it."""
    with connection.cursor() as cursor:
        cursor.execute(_handshake_statement(), [identity, tenant_slug])
        row = cursor.fetchone()
    return None if row is None else with_its_tenant(row)


def with_its_tenant(row: Sequence[Any]) -> Charger:
    """The charger, its tenant set, of a row a `charger_and_tenant` statement read (columns
    it selected after them left out)."""
    width = len(Charger._meta.concrete_fields)
    charger = rows.instance(Charger, row[:width])
    charger.tenant = rows.instance(Tenant, row[width : width + len(Tenant._meta.concrete_fields)])
    return charger


def charger_and_tenant(more_columns: str = "") -> str:
    """The head of a fixed statement reading chargers (`c`) with their tenants (`t`) for
    `with_its_tenant`, `more_columns` selected after them; the caller adds WHERE."""
    quote = connection.ops.quote_name
    chargers, tenants = quote(Charger._meta.db_table), quote(Tenant._meta.db_table)
    more = f", {more_columns}" if more_columns else ""
    # Names come from the models, quoted; the values go as parameters.
    return (
        f"SELECT {rows.columns(Charger, 'c')}, {rows.columns(Tenant, 't')}{more}"  # noqa: S608
        f" FROM {chargers} c INNER JOIN {tenants} t ON t.{quote('id')} = c.{quote('tenant_id')}"
    )


@lru_cache(maxsize=1)
def _handshake_statement() -> str:
    quote = connection.ops.quote_name
    return (
        f"{charger_and_tenant()} WHERE c.{quote('identity')} = %s AND t.{quote('slug')} = %s"
        f" AND t.{quote('is_active')} LIMIT 1"
    )


def charger_registration_status(*, charger_id: int) -> str:
    return Charger.objects.values_list("registration_status", flat=True).get(pk=charger_id)


def charger_speaks_security_extension(charger: Charger) -> bool:
    """Whether a 1.6 charger showed it speaks the 1.6 security extension (2.0.1: no)."""
    return (
        charger.ocpp_version == OcppVersion.V16
        and ChargerEvent.objects.filter(
            charger=charger, kind__in=SECURITY_EXTENSION_EVENTS
        ).exists()
    )


# Firmware stages during which an update is under way at the charger (until it boots again).
UPDATE_UNDER_WAY = ("accepted", "downloading", "downloaded", "installing", "installed")
UNDER_WAY, PAST = "under_way", "past"


def charger_firmware_update(charger: Charger) -> str:
    """What the firmware status the charger last reported says now: UNDER_WAY (a stage of an
    update, reported since the charger last booted), PAST (an update that ended: its status
    stays on the row until the next one), or "" (no update reported, or Idle)."""
    stage = FIRMWARE_STAGES.get(charger.firmware_status, "")
    if not charger.firmware_status or stage == "idle":
        return ""
    if stage not in UPDATE_UNDER_WAY:
        return PAST
    if charger.last_boot_at is None:
        return UNDER_WAY
    reported_at = (
        ChargerEvent.objects.filter(
            charger=charger,
            kind__in=(EventKind.FIRMWARE_STATUS, EventKind.SIGNED_FIRMWARE_STATUS),
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return UNDER_WAY if reported_at and reported_at > charger.last_boot_at else PAST
