"""Every write of billing: tariffs and their versions, assignments, charge detail records.

Functions run in the tenant scope of their caller (a view, an API request, a task). Bad input
raises Django's ValidationError naming the field, OCPI-spelled, and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from billing import display, invoicing, listeners, parties, pricing, selectors
from billing.events import CdrIssued, SessionCostUpdated
from billing.models import (
    BillingSettings,
    ChargeDetailRecord,
    Customer,
    CustomerGroup,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    RunningCost,
    SiteShare,
    Statement,
    Tariff,
    TariffAssignment,
    TariffVersion,
)
from chargers.models import Charger, ChargingSession, Connector, IdToken, SessionState
from chargers.ocpp import builders
from chargers.reservations.models import Reservation, ReservationStatus
from cpms.audit import services as audit
from cpms.audit.models import ObjectType, Verb
from cpms.events import publish
from cpms.models import Site, SiteOwner, User
from cpms.tenancy import scoping

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
        raise ValidationError({"end_date_time": [gettext("Must be after start_date_time.")]})
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
            {
                "effective_from": [
                    gettext("A price change takes effect now or later, never in the past.")
                ]
            }
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
        raise ValidationError({"name": [gettext("This field may not be blank.")]})
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
    audit.record(
        action=Verb.CREATE,
        object_type=ObjectType.TARIFF,
        target=tariff,
        changes=audit.new_values({"name": tariff.name, "currency": currency, **terms}),
    )
    return tariff


@transaction.atomic
def tariff_update(
    *, tariff: Tariff, user: User | None = None, **changes: Any
) -> tuple[Tariff, TariffVersion | None]:
    """Rename the tariff, or change its terms: a change of terms is the next version, in force
    from `effective_from` (now), and leaves every earlier version, and every record priced by
    one, as it was. Returns the tariff and the new version, if there is one."""
    locked = Tariff.objects.select_for_update().get(pk=tariff.pk)
    old_name = locked.name
    if "currency" in changes and changes["currency"] != locked.currency:
        raise ValidationError(
            {
                "currency": [
                    gettext("A tariff keeps its currency; create a tariff in the other one.")
                ]
            }
        )
    if "name" in changes:
        if not str(changes["name"]).strip():
            raise ValidationError({"name": [gettext("This field may not be blank.")]})
        locked.name = str(changes["name"]).strip()
        locked.save(update_fields=["name"])
    new_version = None
    if any(field in changes for field in (*TERMS, "effective_from")):
        current = selectors.current_version(locked)
        before = {field: getattr(current, field) for field in TERMS}
        merged = {**before, **{field: changes[field] for field in TERMS if field in changes}}
        terms = _checked_terms(locked.currency, merged)
        if terms == _checked_terms(locked.currency, before) and not changes.get("effective_from"):
            return locked, None  # the same terms again (a form saved unchanged)
        at = _effective(changes.get("effective_from"), timezone.now())
        if at < current.effective_from:
            raise ValidationError(
                {
                    "effective_from": [
                        gettext("Must not be before the current version takes effect.")
                    ]
                }
            )
        new_version = _version(
            locked, number=current.number + 1, effective_from=at, user=user, **terms
        )
        difference = audit.diff(_checked_terms(locked.currency, before), terms)
        difference["version"] = {"before": current.number, "after": new_version.number}
    else:
        difference = {}
    difference.update(audit.diff({"name": old_name}, {"name": locked.name}))
    if difference:
        audit.record(
            action=Verb.UPDATE, object_type=ObjectType.TARIFF, target=locked, changes=difference
        )
    return locked, new_version


@transaction.atomic
def tariff_delete(*, tariff: Tariff) -> None:
    """Withdraw a tariff: its assignments go, the tariff and its versions stay for the records
    they priced."""
    TariffAssignment.objects.filter(tariff=tariff).delete()
    Tariff.objects.filter(pk=tariff.pk).update(archived_at=timezone.now())
    audit.record(action=Verb.DELETE, object_type=ObjectType.TARIFF, target=tariff)


def _checked_place(site: Site | None, charger: Charger | None, connector: Connector | None) -> None:
    places = (("site", site), ("charger", charger), ("connector", connector))
    given = [name for name, value in places if value is not None]
    if len(given) > 1:
        raise ValidationError(
            {
                given[1]: [
                    gettext(
                        "Assign to one place: the tenant (none), a site, a charger or a connector."
                    )
                ]
            }
        )


def _checked_tariff(tariff: Tariff) -> None:
    if tariff.archived_at is not None:
        raise ValidationError({"tariff": [gettext("This tariff was deleted.")]})


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
    assignment = TariffAssignment.objects.create(
        tariff=tariff,
        site=site,
        charger=charger,
        connector=connector,
        group=group,
        priority=priority,
    )
    audit.created(assignment, ObjectType.TARIFF_ASSIGNMENT, label=str(tariff))
    # This process's ear may remember the tenant as pricing nothing (billing/listeners.py).
    transaction.on_commit(partial(listeners.assigns_a_tariff.forget, assignment.tenant_id))
    return assignment


@transaction.atomic
def assignment_update(*, assignment: TariffAssignment, **changes: Any) -> TariffAssignment:
    before = audit.snapshot(assignment)
    for field in ("tariff", "site", "charger", "connector", "group", "priority"):
        if field in changes:
            setattr(assignment, field, changes[field])
    _checked_tariff(assignment.tariff)
    _checked_place(assignment.site, assignment.charger, assignment.connector)
    assignment.save()
    audit.changed(
        assignment, ObjectType.TARIFF_ASSIGNMENT, before=before, label=str(assignment.tariff)
    )
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: TariffAssignment) -> None:
    audit.deleted(assignment, ObjectType.TARIFF_ASSIGNMENT, label=str(assignment.tariff))
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
        chosen = selectors.tariff_of_session(session)
        if chosen is None:
            return None
        tariff, version = chosen.tariff, chosen.version
    periods = selectors.periods_of(session)
    priced, reservation = selectors.price_of(session, version, periods)
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
        "vat_groups": _vat_groups_of(priced),
        "adjustment": {
            "excl_vat": str(priced.adjustment_excl_vat),
            "incl_vat": str(priced.adjustment_incl_vat),
        }
        if priced.adjustment_excl_vat or priced.adjustment_incl_vat
        else {},
    }
    if reservation is not None:
        # The reservation the session used, priced from when it was made to the start (only
        # then: the fingerprints of records without one stay as they were).
        content["reservation"] = {
            "id": reservation.pk,
            "start_date_time": reservation.created_at.isoformat(),
        }
    fingerprint = _fingerprint(content)
    if previous is not None and previous.fingerprint == fingerprint:
        return previous
    fields = {
        k: v
        for k, v in content.items()
        if k not in ("tariff_version_id", "group_id", "reservation")
    }
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


def reservation_cdr_issue(*, reservation_id: int) -> ChargeDetailRecord | None:
    """Price a reservation that expired unused, in a record of its own (OCPI's
    RESERVATION_EXPIRES, else RESERVATION elements, from when it was made to its expiry),
    by the tariff its token would have charged with there when it was made. Idempotent: one
    record per reservation. None when it did not expire or no tariff prices reservations."""
    reservation = (
        Reservation.objects.select_related("charger__site", "id_token")
        .filter(pk=reservation_id, status=ReservationStatus.EXPIRED)
        .first()
    )
    if reservation is None:
        return None
    existing = ChargeDetailRecord.objects.filter(reservation=reservation).first()
    if existing is not None:
        return existing
    charger, token = reservation.charger, reservation.id_token
    chosen = selectors.tariff_for(
        site_id=charger.site_id,
        charger_id=charger.pk,
        evse_id=reservation.evse_id or 1,
        connector_id=1,
        token=token,
        at=reservation.created_at,
    )
    if chosen is None:
        return None
    zone = zoneinfo.ZoneInfo(charger.site.timezone if charger.site else _tenant_zone())
    start = min(reservation.created_at, reservation.expires_at)
    priced = pricing.price_reservation(
        selectors.terms(chosen.version), start, reservation.expires_at, zone, expired=True
    )
    if priced is None:
        return None
    content: dict[str, Any] = {
        "reservation_id": reservation.pk,
        "tariff_version_id": chosen.version.pk,
        "lines": [line.as_dict() for line in priced.lines],
    }
    try:
        with transaction.atomic():
            cdr = ChargeDetailRecord.objects.create(
                reservation=reservation,
                issued_at=timezone.now(),
                charger=charger,
                site_id=charger.site_id,
                evse_id=reservation.evse_id or 0,
                connector_id=1 if reservation.evse_id else 0,
                id_tag=reservation.id_tag,
                id_token=token,
                group_id=token.group_id if token else None,
                start_date_time=start,
                end_date_time=reservation.expires_at,
                tariff=chosen.tariff,
                tariff_version=chosen.version,
                currency=priced.currency,
                total_energy=Decimal(0),
                total_time=priced.total_time,
                total_parking_time=Decimal(0),
                total_excl_vat_minor=pricing.to_minor(priced.total_excl_vat, priced.currency),
                total_incl_vat_minor=pricing.to_minor(priced.total_incl_vat, priced.currency),
                charging_periods=[],
                lines=content["lines"],
                vat_groups=_vat_groups_of(priced),
                fingerprint=_fingerprint(content),
            )
            publish(CdrIssued.of(cdr))
    except IntegrityError:
        # Another worker priced it first.
        return ChargeDetailRecord.objects.filter(reservation=reservation).first()
    return cdr


def _tenant_zone() -> str:
    tenant = scoping.current_tenant()
    return tenant.timezone if tenant else "UTC"


def _vat_groups_of(priced: pricing.Priced) -> list[dict[str, Any]]:
    return [
        {"vat": None if g.rate is None else str(g.rate), "base": str(g.base), "amount": str(g.vat)}
        for g in priced.vat_groups
    ]


# --- The demo ----------------------------------------------------------------------------------

DEMO_PUBLIC = "Public AC"
DEMO_FLEET = "Fleet contract"


def demo_tariffs_seed(*, fleet_group: IdToken | None = None) -> list[Tariff]:
    """The demo tenant's billing, created once (idempotent): a public tariff for the whole
    tenant (start fee, day and night energy prices, parking after a grace period by day); for
    the fleet's cards a cheaper energy-only contract and a customer who pays for them; a 30 %
    revenue share, less 25 EUR a month, for the sites that have an owner; the seller's legal
    details, with Factur-X e-invoices on."""
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
        if not CustomerGroup.objects.filter(group=fleet_group).exists():
            customer_create(
                name="Harbour Logistics",
                email="accounts@harbour.test",
                street="Kehrwieder 2",
                postal_code="20457",
                city="Hamburg",
                country="DE",
                vat_id="DE987654321",
                groups=[fleet_group],
            )
    for site in Site.objects.filter(site_owner__isnull=False, share__isnull=True):
        site_share_set(site=site, revenue_share_percent=Decimal(30), monthly_fee=Decimal(25))
    if (
        not selectors.billing_settings().legal_name
        and not Customer.objects.filter(country="").exists()
    ):
        # The demo's invoices are Factur-X e-invoices, from a seller with its legal details.
        billing_settings_set(
            legal_name="Demo Charging Co GmbH",
            street="Am Sandtorkai 1",
            postal_code="20457",
            city="Hamburg",
            country="DE",
            vat_id="DE123456789",
            facturx=True,
        )
    return tariffs


# --- Customers and invoices --------------------------------------------------------------------

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def _checked_groups(groups: list[IdToken], customer: Customer | None) -> None:
    taken = CustomerGroup.objects.filter(group__in=groups)
    if customer is not None:
        taken = taken.exclude(customer=customer)
    first = taken.select_related("customer", "group").first()
    if first is not None:
        raise ValidationError(
            {
                "groups": [
                    gettext("%(group)s is billed to %(customer)s already.")
                    % {"group": first.group.uid, "customer": first.customer.name}
                ]
            }
        )


def _checked_country(country: str) -> None:
    """A buyer's country is part of an EN 16931 invoice (BR-11): while the tenant issues
    Factur-X e-invoices, every customer needs one."""
    if not country and selectors.billing_settings().facturx:
        raise ValidationError(
            {"country": [gettext("E-invoices (Factur-X) need the customer's country.")]}
        )


@transaction.atomic
def customer_create(*, groups: list[IdToken] | None = None, **fields: Any) -> Customer:
    """A customer and the id-token groups whose sessions it pays for."""
    _checked_groups(groups or [], None)
    _checked_country(fields.get("country", ""))
    customer = Customer.objects.create(**fields)
    for group in groups or []:
        CustomerGroup.objects.create(customer=customer, group=group)
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, groups: list[IdToken] | None = None, **fields: Any
) -> Customer:
    for name, value in fields.items():
        setattr(customer, name, value)
    _checked_country(customer.country)
    customer.save()
    if groups is not None:
        _checked_groups(groups, customer)
        CustomerGroup.objects.filter(customer=customer).exclude(group__in=groups).delete()
        kept = set(CustomerGroup.objects.filter(customer=customer).values_list("group", flat=True))
        for group in groups:
            if group.pk not in kept:
                CustomerGroup.objects.create(customer=customer, group=group)
    return customer


def customer_delete(*, customer: Customer) -> None:
    if Invoice.objects.filter(customer=customer).exists():
        raise ValidationError({"id": [gettext("This customer has invoices, which are kept.")]})
    Customer.objects.filter(pk=customer.pk).delete()


def _take_number(code: str) -> int:
    """The series' next number, under its row's lock: the caller's transaction holds it until
    it commits (or gives the number back by rolling back), so numbers have no gaps and no
    two invoices share one, however many workers issue at once."""
    InvoiceSeries.objects.get_or_create(code=code)
    series = InvoiceSeries.objects.select_for_update().get(code=code)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return series.last_number


def _line_of(cdr: ChargeDetailRecord, sign: int) -> dict[str, Any]:
    when = cdr.start_date_time.strftime("%Y-%m-%d %H:%M UTC")
    # Fixed-point: normalize() alone writes 20 kWh as "2E+1".
    description = (
        f"Session {cdr.session_id} on {cdr.charger.identity}, {when}, "
        f"{cdr.total_energy.normalize():f} kWh"
        if cdr.session_id is not None
        else f"Reservation on {cdr.charger.identity} from {when}, expired unused"
    )
    return {
        "cdr": cdr,
        "description": description,
        "total_excl_vat_minor": sign * cdr.total_excl_vat_minor,
        "total_incl_vat_minor": sign * cdr.total_incl_vat_minor,
    }


def _issue(
    *,
    customer: Customer,
    kind: str,
    currency: str,
    period: invoicing.Month,
    records: list[ChargeDetailRecord],
    credits: Invoice | None = None,
    reason: str = "",
) -> Invoice:
    sign = -1 if kind == InvoiceKind.CREDIT_NOTE else 1
    series = CREDIT_NOTE_SERIES if kind == InvoiceKind.CREDIT_NOTE else INVOICE_SERIES
    lines = [_line_of(cdr, sign) for cdr in records]
    settings = selectors.billing_settings()
    recipient = parties.customer(customer)
    invoice = Invoice.objects.create(
        customer=customer,
        kind=kind,
        series=series,
        number=_take_number(series),
        period_start=period.first_day,
        period_end=period.last_day,
        issued_at=timezone.now(),
        currency=currency,
        total_excl_vat_minor=sum(line["total_excl_vat_minor"] for line in lines),
        total_incl_vat_minor=sum(line["total_incl_vat_minor"] for line in lines),
        vat_groups=invoicing.vat_breakdown(
            ({"vat_groups": r.vat_groups, "adjustment": r.adjustment} for r in records), sign
        ),
        credits=credits,
        reason=reason,
        issuer=parties.issuer(customer.tenant, settings),
        recipient=recipient,
        payment_terms=settings.payment_terms,
        # Turning e-invoices on needs every customer's country; one cleared since (a raw
        # edit) gets a plain invoice rather than none.
        facturx=settings.facturx and bool(recipient["country"]),
    )
    for line in lines:
        InvoiceLine.objects.create(invoice=invoice, **line)
    return invoice


def invoices_issue(*, period: invoicing.Month) -> list[Invoice]:
    """The month's invoices, one per customer and currency, of every current record of its
    groups' sessions started before the month's end and not invoiced yet (late records of an
    invoiced month go on the next one). A record corrected after it was invoiced is credited
    first (a credit note for the invoice that had it) and its new version invoiced. Run again,
    it issues nothing twice."""
    issued = []
    for customer in Customer.objects.prefetch_related("groups"):
        groups = [g.group_id for g in customer.groups.all()]
        if not groups:
            continue
        try:
            with transaction.atomic():
                mine = _credit_corrected(customer, period)
                mine += _invoice_month(customer, groups, period)
        except IntegrityError:
            # Another worker issued this customer's month first (its numbers stand; ours
            # went back with the rollback).
            continue
        issued += mine
    return issued


def _invoiced_cdrs(kind: str) -> QuerySet[InvoiceLine]:
    return InvoiceLine.objects.filter(invoice__kind=kind)


def _credit_corrected(customer: Customer, period: invoicing.Month) -> list[Invoice]:
    stale = (
        _invoiced_cdrs(InvoiceKind.INVOICE)
        .filter(invoice__customer=customer, cdr__superseded_by__isnull=False)
        .exclude(cdr__in=_invoiced_cdrs(InvoiceKind.CREDIT_NOTE).values("cdr"))
        .select_related("invoice", "cdr__charger")
    )
    by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in stale:
        by_invoice.setdefault(line.invoice_id, []).append(line)
    return [
        _issue(
            customer=customer,
            kind=InvoiceKind.CREDIT_NOTE,
            currency=lines[0].invoice.currency,
            period=period,
            records=[line.cdr for line in lines],
            credits=lines[0].invoice,
            reason="Sessions corrected after they were invoiced; the corrected records are "
            "on the next invoice.",
        )
        for lines in by_invoice.values()
    ]


def _invoice_month(customer: Customer, groups: list[int], period: invoicing.Month) -> list[Invoice]:
    records = (
        selectors.latest_records()
        .filter(group_id__in=groups, start_date_time__lt=period.end)
        .exclude(pk__in=_invoiced_cdrs(InvoiceKind.INVOICE).values("cdr"))
        .select_related("charger")
        .order_by("start_date_time", "pk")
    )
    by_currency: dict[str, list[ChargeDetailRecord]] = {}
    for cdr in records:
        by_currency.setdefault(cdr.currency, []).append(cdr)
    issued = []
    for currency, items in by_currency.items():
        if Invoice.objects.filter(
            customer=customer,
            currency=currency,
            period_start=period.first_day,
            kind=InvoiceKind.INVOICE,
        ).exists():
            continue  # this month is invoiced: later records wait for the next
        issued.append(
            _issue(
                customer=customer,
                kind=InvoiceKind.INVOICE,
                currency=currency,
                period=period,
                records=items,
            )
        )
    return issued


@transaction.atomic
def invoice_credit(*, invoice: Invoice, reason: str) -> Invoice:
    """A credit note for the whole of an invoice (an operator's correction)."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.kind != InvoiceKind.INVOICE:
        raise ValidationError({"id": [gettext("A credit note is not credited again.")]})
    credited = _invoiced_cdrs(InvoiceKind.CREDIT_NOTE).filter(invoice__credits=locked)
    lines = locked.lines.exclude(cdr__in=credited.values("cdr")).select_related("cdr__charger")
    records = [line.cdr for line in lines]
    if not records:
        raise ValidationError({"id": [gettext("This invoice is credited in full already.")]})
    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why: the credit note shows it.")]})
    period = invoicing.Month(locked.period_start, locked.period_end, timezone.now(), timezone.now())
    return _issue(
        customer=locked.customer,
        kind=InvoiceKind.CREDIT_NOTE,
        currency=locked.currency,
        period=period,
        records=records,
        credits=locked,
        reason=reason.strip(),
    )


# --- Site owners' statements -------------------------------------------------------------------


@transaction.atomic
def site_share_set(
    *, site: Site, revenue_share_percent: Decimal, monthly_fee: Decimal = Decimal(0)
) -> SiteShare:
    """The share of a site's revenue its owner gets, and the fee withheld monthly."""
    if not Decimal(0) <= revenue_share_percent <= Decimal(100):
        raise ValidationError({"revenue_share_percent": [gettext("A percentage from 0 to 100.")]})
    if monthly_fee < 0:
        raise ValidationError({"monthly_fee": [gettext("Must not be negative.")]})
    share, _ = SiteShare.objects.update_or_create(
        site=site,
        defaults={"revenue_share_percent": revenue_share_percent, "monthly_fee": monthly_fee},
    )
    return share


def site_share_delete(*, share: SiteShare) -> None:
    SiteShare.objects.filter(pk=share.pk).delete()


def statements_issue(*, period: invoicing.Month) -> list[Statement]:
    """Each site owner's statement of the month, per currency: the current records of
    sessions started at their sites within the month, and as adjustments the records of
    earlier months corrected (or first priced) after their month's statement was issued,
    which stays as it was. Run again, it issues nothing twice."""
    issued = []
    shares = {s.site_id: s for s in SiteShare.objects.all()}
    settings = selectors.billing_settings()
    for owner in SiteOwner.objects.select_related("tenant").prefetch_related("sites"):
        sites = list(owner.sites.all())
        if not sites:
            continue
        records = selectors.latest_records().filter(
            site__in=sites, start_date_time__gte=period.start, start_date_time__lt=period.end
        )
        by_currency: dict[str, dict[int, list[ChargeDetailRecord]]] = {}
        for cdr in records.order_by("pk"):
            by_currency.setdefault(cdr.currency, {}).setdefault(cdr.site_id or 0, []).append(cdr)
        adjustments = _statement_adjustments(owner, sites, period, shares)
        for currency in sorted(set(by_currency) | set(adjustments)):
            statement = _statement_issue(
                owner=owner,
                period=period,
                currency=currency,
                settled=_settled_sites(sites, by_currency.get(currency, {}), shares, currency),
                adjustments=adjustments.get(currency, []),
                settings=settings,
            )
            if statement is not None:
                issued.append(statement)
    return issued


def _percent(shares: dict[int, SiteShare], site_id: int | None) -> Decimal:
    share = shares.get(site_id or 0)
    return share.revenue_share_percent if share else Decimal(0)


def _settled_sites(
    sites: list[Site],
    per_site: dict[int, list[ChargeDetailRecord]],
    shares: dict[int, SiteShare],
    currency: str,
) -> list[invoicing.SiteSettlement]:
    """The month's sites, with the month's fee withheld; none in a month without sessions in
    this currency (a statement of adjustments only withholds no fee)."""
    if not per_site:
        return []
    return [
        invoicing.settle_site(
            site_id=site.pk,
            name=site.name,
            revenues_minor=[c.total_excl_vat_minor for c in per_site.get(site.pk, [])],
            energy_kwh=sum((c.total_energy for c in per_site.get(site.pk, [])), Decimal(0)),
            share_percent=_percent(shares, site.pk),
            fee_minor=pricing.to_minor(shares[site.pk].monthly_fee, currency)
            if site.pk in shares
            else 0,
        )
        for site in sites
    ]


def _statement_adjustments(
    owner: SiteOwner, sites: list[Site], period: invoicing.Month, shares: dict[int, SiteShare]
) -> dict[str, list[dict[str, Any]]]:
    """Per currency, the records of sessions started before `period` at the owner's sites
    whose revenue differs from what the owner's statements settled: a record corrected, or
    first issued, after the statement of its month. Each names its month, the revenue settled
    before (from the version that statement or an earlier adjustment had) and now, and the
    share of the difference. Looked for from the owner's first statement on."""
    earlier = list(Statement.objects.filter(site_owner=owner, period_start__lt=period.first_day))
    if not earlier:
        return {}
    first = min(s.issued_at for s in earlier)
    adjusted = {a["cdr"]: a for s in earlier for a in s.adjustments}
    late = (
        selectors.latest_records()
        .filter(site__in=sites, start_date_time__lt=period.start, issued_at__gt=first)
        .exclude(pk__in=list(adjusted))
        .select_related("site")
        .order_by("start_date_time", "pk")
    )
    zone = zoneinfo.ZoneInfo(owner.tenant.timezone)
    found: dict[str, list[dict[str, Any]]] = {}
    for cdr in late:
        day = cdr.start_date_time.astimezone(zone).date()
        statement = next(
            (
                s
                for s in earlier
                if s.currency == cdr.currency and s.period_start <= day <= s.period_end
            ),
            None,
        )
        if statement is not None and statement.issued_at >= cdr.issued_at:
            continue  # its month's statement settled this very record
        before = _settled_revenue(cdr, statement, adjusted)
        difference = cdr.total_excl_vat_minor - before
        if not difference:
            continue
        found.setdefault(cdr.currency, []).append(
            {
                "cdr": cdr.pk,
                "session": cdr.session_id,
                "version": cdr.version,
                "site": cdr.site_id,
                "name": cdr.site.name if cdr.site else "",
                "month": f"{day:%Y-%m}",
                "before": str(pricing.from_minor(before, cdr.currency)),
                "revenue": str(pricing.from_minor(cdr.total_excl_vat_minor, cdr.currency)),
                "difference": str(pricing.from_minor(difference, cdr.currency)),
                "share_percent": str(_percent(shares, cdr.site_id)),
                "share": str(
                    pricing.from_minor(
                        invoicing.share_of(difference, _percent(shares, cdr.site_id)),
                        cdr.currency,
                    )
                ),
            }
        )
    return found


def _settled_revenue(
    cdr: ChargeDetailRecord, statement: Statement | None, adjusted: dict[int, dict[str, Any]]
) -> int:
    """The revenue (minor units) the owner was settled for `cdr`'s session before: the newest
    earlier version an adjustment had, or the one current when its month's statement was
    issued; 0 when no statement had any."""
    versions = ChargeDetailRecord.objects.filter(
        session_id=cdr.session_id, version__lt=cdr.version
    ).order_by("-version")
    for version in versions:
        if version.pk in adjusted or (
            statement is not None and version.issued_at <= statement.issued_at
        ):
            return version.total_excl_vat_minor
    return 0


def _statement_issue(
    *,
    owner: SiteOwner,
    period: invoicing.Month,
    currency: str,
    settled: list[invoicing.SiteSettlement],
    adjustments: list[dict[str, Any]],
    settings: BillingSettings,
) -> Statement | None:
    adjustment_minor = sum(pricing.to_minor(Decimal(a["share"]), currency) for a in adjustments)
    try:
        with transaction.atomic():
            return Statement.objects.create(
                site_owner=owner,
                period_start=period.first_day,
                period_end=period.last_day,
                issued_at=timezone.now(),
                currency=currency,
                revenue_minor=sum(s.revenue_minor for s in settled),
                share_minor=sum(s.share_minor for s in settled),
                fees_minor=sum(s.fee_minor for s in settled),
                adjustment_minor=adjustment_minor,
                payout_minor=sum(s.share_minor - s.fee_minor for s in settled) + adjustment_minor,
                sites=[
                    {
                        "site": s.site_id,
                        "name": s.name,
                        "sessions": s.sessions,
                        "energy_kwh": str(s.energy_kwh),
                        "revenue": str(pricing.from_minor(s.revenue_minor, currency)),
                        "share_percent": str(s.share_percent),
                        "share": str(pricing.from_minor(s.share_minor, currency)),
                        "fee": str(pricing.from_minor(s.fee_minor, currency)),
                    }
                    for s in settled
                ],
                adjustments=adjustments,
                issuer=parties.issuer(owner.tenant, settings),
                recipient=parties.site_owner(owner),
            )
    except IntegrityError:
        return None  # issued already (by an earlier run, or another worker now)


# --- Costs on the charger's screen ------------------------------------------------------------

# The shortest interval between running costs: a charger's screen, not a meter.
MIN_COST_UPDATE_SECONDS = 10
MAX_COST_UPDATE_SECONDS = 3600
SETTINGS_FIELDS = ("cost_update_seconds", *parties.FACTURX_SELLER_FIELDS, "facturx")


def _settings_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seconds = values["cost_update_seconds"]
    if seconds != 0 and not (MIN_COST_UPDATE_SECONDS <= seconds <= MAX_COST_UPDATE_SECONDS):
        errors["cost_update_seconds"] = [
            gettext("0 (off) or from %(least)s to %(most)s.")
            % {"least": MIN_COST_UPDATE_SECONDS, "most": MAX_COST_UPDATE_SECONDS}
        ]
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors["country"] = [gettext("Use an ISO 3166 alpha-2 code such as DE.")]
    if values["facturx"]:
        for name in parties.missing_for_facturx(values):
            errors.setdefault(name, []).append(
                gettext("Needed for Factur-X e-invoices (EN 16931).")
            )
        countryless = list(Customer.objects.filter(country="").values_list("name", flat=True))
        if countryless:
            names = ", ".join(countryless[:5])
            errors["facturx"] = [
                gettext("E-invoices name each buyer's country; set it for %(names)s.")
                % {"names": names}
                if len(countryless) <= 5
                else gettext(
                    "E-invoices name each buyer's country; set it for %(names)s and %(more)s more."
                )
                % {"names": names, "more": len(countryless) - 5}
            ]
    return errors


@transaction.atomic
def billing_settings_set(**changes: Any) -> BillingSettings:
    """Change the tenant's billing settings named (the others keep their values): the running
    cost interval (0 off, else 10 to 3600 s), the seller's legal details and payment terms
    invoices show, and Factur-X e-invoices, which need those details complete and every
    customer's country. A ValidationError names each field at fault and changes nothing."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a billing setting: {', '.join(sorted(unknown))}")
    current = selectors.billing_settings()
    values = {name: getattr(current, name) for name in SETTINGS_FIELDS} | changes
    errors = _settings_errors(values)
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(current, name) for name in SETTINGS_FIELDS}
    # The scope's one row (the default manager sees only its tenant's).
    found, _ = BillingSettings.objects.update_or_create(defaults=values)
    audit.changed(found, ObjectType.BILLING_SETTINGS, before=before)
    return found


def running_cost_send(*, session_id: int, now: datetime | None = None) -> RunningCost | None:
    """Send a running session's cost so far to its charger (2.0.1 CostUpdated, 1.6 California
    Pricing RunningCost) through the command path, not waiting for the reply, and note it.
    Nothing for a session that ended, a charger offline or one that shows no costs, or a
    session no tariff prices."""
    now = now or timezone.now()
    session = ChargingSession.objects.select_related("charger").get(pk=session_id)
    charger = session.charger
    if session.state != SessionState.ACTIVE or not charger.is_online:
        return None
    if not builders.shows_costs(charger):
        return None
    cost = display.session_cost(session_id=session.pk)
    if cost is None:
        return None
    request = builders.running_cost(
        charger,
        transaction_id=session.transaction_id,
        cost=cost.amount,
        meter_wh=int(session.energy_wh),
        charging=session.power_w is None or session.power_w > 0,
        at=now,
    )
    builders.perform(charger, request, wait=False)
    sent, _ = RunningCost.objects.update_or_create(
        session=session, defaults={"amount": cost.amount, "currency": cost.currency, "sent_at": now}
    )
    publish(
        SessionCostUpdated(
            tenant_id=session.tenant_id,
            session_id=session.pk,
            charger_id=charger.pk,
            currency=cost.currency,
            total_incl_vat=cost.amount,
            text=display.money_text(cost),
        )
    )
    return sent


def final_cost_send(*, session_id: int) -> RunningCost | None:
    """Send an ended 1.6 session's total to a charger that shows costs (California Pricing
    FinalCost), once. A 2.0.1 station has its total in the reply to the Ended event."""
    session = ChargingSession.objects.select_related("charger", "id_token").get(pk=session_id)
    charger = session.charger
    if session.state != SessionState.COMPLETED or builders.is_v2(charger):
        return None
    if RunningCost.objects.filter(session=session, final=True).exists():
        return None
    if not charger.is_online or not builders.shows_costs(charger):
        return None
    cost = display.session_cost(session_id=session.pk)
    if cost is None:
        return None
    text = display.total_text(cost)
    builders.perform(
        charger,
        builders.final_cost(
            charger, transaction_id=session.transaction_id, cost=cost.amount, price_text=text
        ),
        wait=False,
    )
    sent, _ = RunningCost.objects.update_or_create(
        session=session,
        defaults={
            "amount": cost.amount,
            "currency": cost.currency,
            "sent_at": timezone.now(),
            "final": True,
        },
    )
    return sent
