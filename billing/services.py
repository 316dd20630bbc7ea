"""Every write of billing: tariffs and their versions, assignments, charge detail records.

Functions run in the tenant scope of their caller (a view, an API request, a task). Bad input
raises Django's ValidationError naming the field, OCPI-spelled, and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import pricing, selectors
from billing.events import CdrIssued
from billing.models import ChargeDetailRecord, Tariff, TariffAssignment, TariffVersion
from chargers.models import Charger, ChargingSession, Connector, IdToken, SessionState
from cpms.events import publish
from cpms.models import Site, User

# Fields of a version: changing any of them makes the next version.
TERMS = (
    "elements",
    "min_price",
    "max_price",
    "start_date_time",
    "end_date_time",
    "parking_grace_minutes",
)
# An edit "from now" sent a little after the form was loaded is still now.
CLOCK_SLACK = timedelta(minutes=5)


def _checked_terms(currency: str, terms: dict[str, Any]) -> dict[str, Any]:
    """The terms as stored: validated by the pricing function's own reader, elements in
    OCPI's shape; a ValidationError names the field at fault."""
    data: dict[str, Any] = {
        "currency": currency,
        "elements": terms.get("elements"),
        "min_price": terms.get("min_price"),
        "max_price": terms.get("max_price"),
    }
    grace = terms.get("parking_grace_minutes") or 0
    try:
        pricing.tariff_from_ocpi(data, parking_grace_seconds=grace * 60)
    except pricing.TariffError as error:
        raise ValidationError({error.field: [error.message]}) from None
    start, end = terms.get("start_date_time"), terms.get("end_date_time")
    if start is not None and end is not None and end <= start:
        raise ValidationError({"end_date_time": ["Must be after start_date_time."]})
    return {
        "elements": pricing.normalised_elements(data["elements"]),
        "min_price": _money(data["min_price"]),
        "max_price": _money(data["max_price"]),
        "start_date_time": start,
        "end_date_time": end,
        "parking_grace_minutes": grace,
    }


def _money(price: dict[str, Any] | None) -> dict[str, Any] | None:
    if price is None:
        return None
    return {k: pricing.plain(Decimal(str(v))) for k, v in price.items() if v is not None}


def _version(
    tariff: Tariff, *, number: int, effective_from: datetime, user: User | None, **terms: Any
) -> TariffVersion:
    return TariffVersion.objects.create(
        tariff=tariff,
        number=number,
        effective_from=effective_from,
        created_by=user,
        **terms,
    )


def _effective(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at < now - CLOCK_SLACK:
        raise ValidationError(
            {"effective_from": ["A price change takes effect now or later, never in the past."]}
        )
    return at


@transaction.atomic
def tariff_create(
    *,
    name: str,
    currency: str,
    elements: Any,
    min_price: dict[str, Any] | None = None,
    max_price: dict[str, Any] | None = None,
    start_date_time: datetime | None = None,
    end_date_time: datetime | None = None,
    parking_grace_minutes: int = 0,
    effective_from: datetime | None = None,
    user: User | None = None,
) -> Tariff:
    """A new tariff and its first version, in force from `effective_from` (now)."""
    if not name.strip():
        raise ValidationError({"name": ["This field may not be blank."]})
    terms = _checked_terms(
        currency,
        {
            "elements": elements,
            "min_price": min_price,
            "max_price": max_price,
            "start_date_time": start_date_time,
            "end_date_time": end_date_time,
            "parking_grace_minutes": parking_grace_minutes,
        },
    )
    now = timezone.now()
    tariff = Tariff.objects.create(name=name.strip(), currency=currency)
    _version(tariff, number=1, effective_from=_effective(effective_from, now), user=user, **terms)
    return tariff


@transaction.atomic
def tariff_update(
    *, tariff: Tariff, user: User | None = None, **changes: Any
) -> tuple[Tariff, TariffVersion | None]:
    """Rename the tariff, or change its terms: a change of terms is the next version, in force
    from `effective_from` (now), and leaves every earlier version, and every record priced by
    one, as it was. Returns the tariff and the new version, if there is one."""
    locked = Tariff.objects.select_for_update().get(pk=tariff.pk)
    if "currency" in changes and changes["currency"] != locked.currency:
        raise ValidationError(
            {"currency": ["A tariff keeps its currency; create a tariff in the other one."]}
        )
    if "name" in changes:
        if not str(changes["name"]).strip():
            raise ValidationError({"name": ["This field may not be blank."]})
        locked.name = str(changes["name"]).strip()
        locked.save(update_fields=["name"])
    new_version = None
    if any(field in changes for field in (*TERMS, "effective_from")):
        current = selectors.current_version(locked)
        merged = {field: getattr(current, field) for field in TERMS}
        merged.update({field: changes[field] for field in TERMS if field in changes})
        terms = _checked_terms(locked.currency, merged)
        at = _effective(changes.get("effective_from"), timezone.now())
        if at < current.effective_from:
            raise ValidationError(
                {"effective_from": ["Must not be before the current version takes effect."]}
            )
        new_version = _version(
            locked, number=current.number + 1, effective_from=at, user=user, **terms
        )
    return locked, new_version


@transaction.atomic
def tariff_delete(*, tariff: Tariff) -> None:
    """Withdraw a tariff: its assignments go, the tariff and its versions stay for the records
    they priced."""
    TariffAssignment.objects.filter(tariff=tariff).delete()
    Tariff.objects.filter(pk=tariff.pk).update(archived_at=timezone.now())


def _checked_place(site: Site | None, charger: Charger | None, connector: Connector | None) -> None:
    places = (("site", site), ("charger", charger), ("connector", connector))
    given = [name for name, value in places if value is not None]
    if len(given) > 1:
        raise ValidationError(
            {
                given[1]: [
                    "Assign to one place: the tenant (none), a site, a charger or a connector."
                ]
            }
        )


def _checked_tariff(tariff: Tariff) -> None:
    if tariff.archived_at is not None:
        raise ValidationError({"tariff": ["This tariff was deleted."]})


@transaction.atomic
def assignment_create(
    *,
    tariff: Tariff,
    site: Site | None = None,
    charger: Charger | None = None,
    connector: Connector | None = None,
    group: IdToken | None = None,
    priority: int = 0,
) -> TariffAssignment:
    _checked_tariff(tariff)
    _checked_place(site, charger, connector)
    return TariffAssignment.objects.create(
        tariff=tariff,
        site=site,
        charger=charger,
        connector=connector,
        group=group,
        priority=priority,
    )


@transaction.atomic
def assignment_update(*, assignment: TariffAssignment, **changes: Any) -> TariffAssignment:
    for field in ("tariff", "site", "charger", "connector", "group", "priority"):
        if field in changes:
            setattr(assignment, field, changes[field])
    _checked_tariff(assignment.tariff)
    _checked_place(assignment.site, assignment.charger, assignment.connector)
    assignment.save()
    return assignment


def assignment_delete(*, assignment: TariffAssignment) -> None:
    TariffAssignment.objects.filter(pk=assignment.pk).delete()


# --- Charge detail records ---------------------------------------------------------------------


def _ocpi_periods(periods: list[pricing.Period]) -> list[dict[str, Any]]:
    """OCPI's charging_periods: each with its start and its dimensions' volumes."""
    out = []
    for period in periods:
        hours = Decimal((period.end - period.start).total_seconds()) / 3600
        dimensions = []
        if period.charging:
            dimensions.append({"type": "ENERGY", "volume": str(_six(period.energy_wh / 1000))})
            dimensions.append({"type": "TIME", "volume": str(_six(hours))})
        else:
            dimensions.append({"type": "PARKING_TIME", "volume": str(_six(hours))})
        if period.current_a is not None:
            dimensions.append({"type": "MAX_CURRENT", "volume": str(period.current_a)})
        out.append({"start_date_time": period.start.isoformat(), "dimensions": dimensions})
    return out


def _six(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


def _fingerprint(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def cdr_issue(*, session_id: int) -> ChargeDetailRecord | None:
    """Price a finished session and issue its record. Idempotent: the same session with the
    same figures issues nothing new (a second delivery of the task, a resent stop); changed
    figures (a late stop, a corrected meter) issue the next version, priced by the tariff
    version of the first, which supersedes the one before. Returns the session's current
    record, or None for a running session or one no tariff applies to."""
    session = ChargingSession.objects.select_related("site", "id_token").get(pk=session_id)
    if session.state != SessionState.COMPLETED or session.stopped_at is None:
        return None
    previous = ChargeDetailRecord.objects.filter(session=session).order_by("-version").first()
    if previous is not None:
        tariff, version = previous.tariff, previous.tariff_version
    else:
        chosen = selectors.tariff_for(
            site_id=session.site_id,
            charger_id=session.charger_id,
            evse_id=session.evse_id,
            connector_id=session.connector_id,
            token=session.id_token,
            at=session.started_at,
        )
        if chosen is None:
            return None
        tariff, version = chosen.tariff, chosen.version
    periods = selectors.periods_of(session)
    priced = pricing.price_session(selectors.terms(version), periods, selectors.site_zone(session))
    token = session.id_token
    content: dict[str, Any] = {
        "site_id": session.site_id,
        "evse_id": session.evse_id,
        "connector_id": session.connector_id,
        "id_tag": session.id_tag,
        "id_token_id": token.pk if token else None,
        "group_id": token.group_id if token else None,
        "start_date_time": session.started_at,
        "end_date_time": session.stopped_at,
        "tariff_version_id": version.pk,
        "currency": priced.currency,
        "total_energy": priced.total_energy,
        "total_time": priced.total_time,
        "total_parking_time": priced.total_parking_time,
        "total_excl_vat_minor": pricing.to_minor(priced.total_excl_vat, priced.currency),
        "total_incl_vat_minor": pricing.to_minor(priced.total_incl_vat, priced.currency),
        "charging_periods": _ocpi_periods(periods),
        "lines": [line.as_dict() for line in priced.lines],
        "vat_groups": [
            {
                "vat": None if g.rate is None else str(g.rate),
                "base": str(g.base),
                "amount": str(g.vat),
            }
            for g in priced.vat_groups
        ],
        "adjustment": {
            "excl_vat": str(priced.adjustment_excl_vat),
            "incl_vat": str(priced.adjustment_incl_vat),
        }
        if priced.adjustment_excl_vat or priced.adjustment_incl_vat
        else {},
    }
    fingerprint = _fingerprint(content)
    if previous is not None and previous.fingerprint == fingerprint:
        return previous
    fields = {k: v for k, v in content.items() if k not in ("tariff_version_id", "group_id")}
    try:
        with transaction.atomic():
            cdr = ChargeDetailRecord.objects.create(
                session=session,
                version=previous.version + 1 if previous else 1,
                supersedes=previous,
                issued_at=timezone.now(),
                charger_id=session.charger_id,
                group_id=token.group_id if token else None,
                tariff=tariff,
                tariff_version=version,
                fingerprint=fingerprint,
                **fields,
            )
            publish(CdrIssued.of(cdr))
    except IntegrityError:
        # Another worker issued this version first: the session's record is theirs.
        return ChargeDetailRecord.objects.filter(session=session).order_by("-version").first()
    return cdr


# --- The demo ----------------------------------------------------------------------------------

DEMO_PUBLIC = "Public AC"
DEMO_FLEET = "Fleet contract"


def demo_tariffs_seed(*, fleet_group: IdToken | None = None) -> list[Tariff]:
    """The demo tenant's tariffs, created once (idempotent): a public tariff for the whole
    tenant (start fee, day and night energy prices, parking after a grace period by day) and,
    for the fleet's cards, a cheaper energy-only contract."""
    public = Tariff.objects.filter(name=DEMO_PUBLIC, archived_at__isnull=True).first()
    if public is None:
        public = tariff_create(
            name=DEMO_PUBLIC,
            currency="EUR",
            elements=[
                {"price_components": [{"type": "FLAT", "price": 0.5, "vat": 19}]},
                {
                    "price_components": [{"type": "ENERGY", "price": 0.39, "vat": 19}],
                    "restrictions": {"start_time": "07:00", "end_time": "22:00"},
                },
                {"price_components": [{"type": "ENERGY", "price": 0.29, "vat": 19}]},
                {
                    "price_components": [
                        {"type": "PARKING_TIME", "price": 6.0, "vat": 19, "step_size": 300}
                    ],
                    "restrictions": {"start_time": "07:00", "end_time": "20:00"},
                },
            ],
            max_price={"excl_vat": 60, "incl_vat": 71.4},
            parking_grace_minutes=30,
        )
        assignment_create(tariff=public)
    tariffs = [public]
    if fleet_group is not None:
        fleet = Tariff.objects.filter(name=DEMO_FLEET, archived_at__isnull=True).first()
        if fleet is None:
            fleet = tariff_create(
                name=DEMO_FLEET,
                currency="EUR",
                elements=[{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 19}]}],
            )
            assignment_create(tariff=fleet, group=fleet_group, priority=10)
        tariffs.append(fleet)
    return tariffs
