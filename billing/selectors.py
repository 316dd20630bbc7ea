"""Reads of billing: tariffs in force, which tariff a session gets, a session's periods, and a
hypothetical session's price. All in the caller's tenant scope."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing import invoicing, pricing
from billing.models import (
    DEFAULT_COST_UPDATE_SECONDS,
    BillingSettings,
    ChargeDetailRecord,
    SiteShare,
    Tariff,
    TariffAssignment,
    TariffVersion,
)
from billing.periods import (
    Reading,
    StatusChange,
    register_readings,
    session_periods,
    summed_currents,
)
from chargers.models import ChargingSession, IdToken, MeterSample, SessionState, StatusEvent
from chargers.reservations.models import Reservation, ReservationStatus
from cpms.models import Site
from cpms.tenancy import scoping


def live_tariffs() -> QuerySet[Tariff]:
    return Tariff.objects.filter(archived_at__isnull=True)


def current_version(tariff: Tariff) -> TariffVersion:
    """The newest version: what an edit starts from."""
    return tariff.versions.order_by("-number")[0]


def version_in_force(tariff: Tariff, at: datetime) -> TariffVersion:
    """The version that prices a session started `at`: the last to take effect by then (the
    first, for a session older than the tariff)."""
    found = tariff.versions.filter(effective_from__lte=at).order_by("-effective_from", "-number")
    return found.first() or tariff.versions.order_by("number")[0]


def terms(version: TariffVersion) -> pricing.Tariff:
    """The version as the pricing function takes it (validated when it was written)."""
    return pricing.tariff_from_ocpi(
        version.ocpi(), parking_grace_seconds=version.parking_grace_minutes * 60
    )


def valid_at(version: TariffVersion, at: datetime) -> bool:
    """OCPI's start_date_time/end_date_time: the window in which the tariff may be used."""
    if version.start_date_time is not None and at < version.start_date_time:
        return False
    return version.end_date_time is None or at < version.end_date_time


@dataclass(frozen=True)
class Chosen:
    tariff: Tariff
    version: TariffVersion
    assignment: TariffAssignment


SPECIFICITY = {"connector": 3, "charger": 2, "site": 1, "tenant": 0}


def _rank(assignment: TariffAssignment) -> tuple[int, ...]:
    place = SPECIFICITY[assignment.place]
    if assignment.group_id is not None:
        return (1, assignment.priority, place, assignment.pk)
    return (0, place, assignment.priority, assignment.pk)


def groups_of(token: IdToken | None) -> set[int]:
    """The id-token groups a token belongs to: its group, and itself when others name it."""
    if token is None:
        return set()
    return {token.pk} | ({token.group_id} if token.group_id else set())


def tariff_for(
    *,
    site_id: int | None,
    charger_id: int,
    evse_id: int,
    connector_id: int,
    token: IdToken | None,
    at: datetime,
) -> Chosen | None:
    """The tariff a session gets: a group's override before any place, the most specific
    place (connector, charger, site, tenant) before a wider one, then priority; only tariffs
    whose version in force at `at` is valid then."""
    place = Q(site__isnull=True, charger__isnull=True, connector__isnull=True)
    place |= Q(charger_id=charger_id)
    place |= Q(
        connector__charger_id=charger_id,
        connector__evse_id=evse_id,
        connector__connector_id=connector_id,
    )
    if site_id is not None:
        place |= Q(site_id=site_id)
    group = Q(group__isnull=True) | Q(group_id__in=groups_of(token))
    assignments = TariffAssignment.objects.filter(
        place, group, tariff__archived_at__isnull=True
    ).select_related("tariff")
    for assignment in sorted(assignments, key=_rank, reverse=True):
        version = version_in_force(assignment.tariff, at)
        if valid_at(version, at):
            return Chosen(assignment.tariff, version, assignment)
    return None


def tariff_of_session(session: ChargingSession) -> Chosen | None:
    """The tariff of the session's place, driver and start (`tariff_for`)."""
    return tariff_for(
        site_id=session.site_id,
        charger_id=session.charger_id,
        evse_id=session.evse_id,
        connector_id=session.connector_id,
        token=session.id_token,
        at=session.started_at,
    )


def site_zone(session: ChargingSession) -> zoneinfo.ZoneInfo:
    if session.site is not None:
        return zoneinfo.ZoneInfo(session.site.timezone)
    tenant = scoping.current_tenant()
    return zoneinfo.ZoneInfo(tenant.timezone if tenant else "UTC")


def used_reservation(session: ChargingSession) -> Reservation | None:
    """The reservation the session used (the charger named it when the session started)."""
    return Reservation.objects.filter(session=session, status=ReservationStatus.USED).first()


def price_of(
    session: ChargingSession, version: TariffVersion, periods: list[pricing.Period]
) -> tuple[pricing.Priced, Reservation | None]:
    """The session's price under `version`, with the reservation it used from when it was
    made until the session started, priced by the version's reservation elements: what its
    record and the charger's screen show alike. Returns the reservation too."""
    tariff, zone = terms(version), site_zone(session)
    priced = pricing.price_session(tariff, periods, zone)
    # Most tariffs price no reservation: then nothing is looked up (an Ended reply asks this).
    if not pricing.reservation_elements(tariff, expired=False):
        return priced, None
    reservation = used_reservation(session)
    if reservation is None:
        return priced, None
    start = min(reservation.created_at, session.started_at)
    reserved = pricing.price_reservation(tariff, start, session.started_at, zone, expired=False)
    return pricing.with_reservation(priced, reserved), reservation


def periods_of(session: ChargingSession, until: datetime | None = None) -> list[pricing.Period]:
    """The session's periods from its outlet meter samples and its connector's status history
    while it ran (a running session's up to `until`, its cost so far)."""
    start = session.started_at
    # A stop dated before its start (a charger's clock) is a session of no length.
    end = max(session.stopped_at or until or start, start)
    samples = list(
        MeterSample.objects.filter(session=session, location__in=("", "Outlet")).values_list(
            "timestamp", "measurand", "phase", "unit", "value"
        )
    )
    readings = register_readings(samples)
    if session.meter_start_wh is not None:
        readings.append(Reading(start, session.meter_start_wh))
    if session.meter_stop_wh is not None:
        readings.append(Reading(end, session.meter_stop_wh))
    statuses = StatusEvent.objects.filter(
        charger_id=session.charger_id,
        evse_id=session.evse_id,
        timestamp__gte=start,
        timestamp__lte=end,
    ).values_list("timestamp", "status")
    return session_periods(
        start=start,
        end=end,
        readings=_one_per_time(readings),
        statuses=[StatusChange(at, status) for at, status in statuses],
        currents=summed_currents(samples),
        energy_wh=Decimal(session.energy_wh),
    )


def _one_per_time(readings: list[Reading]) -> list[Reading]:
    """The highest reading at each time (a stop's meter and a sample at the same instant)."""
    best: dict[datetime, Reading] = {}
    for reading in readings:
        if reading.at not in best or reading.wh > best[reading.at].wh:
            best[reading.at] = reading
    return sorted(best.values(), key=lambda r: r.at)


@dataclass(frozen=True)
class Hypothetical:
    start: datetime
    charging_end: datetime
    end: datetime
    energy_kwh: Decimal
    max_power_kw: Decimal | None = None


def hypothetical_periods(session: Hypothetical) -> list[pricing.Period]:
    """Connected from `start` to `end`, drawing energy evenly until `charging_end`."""
    periods = [
        pricing.Period(
            start=session.start,
            end=session.charging_end,
            energy_wh=session.energy_kwh * 1000,
            charging=True,
            power_kw=session.max_power_kw,
        )
    ]
    if session.end > session.charging_end:
        periods.append(pricing.Period(start=session.charging_end, end=session.end, charging=False))
    return periods


def preview(
    tariff: Tariff, session: Hypothetical, tz: zoneinfo.ZoneInfo
) -> tuple[TariffVersion, pricing.Priced]:
    version = version_in_force(tariff, session.start)
    return version, pricing.price_session(terms(version), hypothetical_periods(session), tz)


def latest_records() -> QuerySet[ChargeDetailRecord]:
    """Each session's newest record: the ones no later version supersedes."""
    return ChargeDetailRecord.objects.filter(superseded_by__isnull=True)


# How far back the periodic sweep looks for ended sessions without a record.
SWEEP_WINDOW_DAYS = 3


def sessions_to_price(limit: int = 500) -> list[int]:
    """Ended sessions of the last days with no record yet, whose pricing task was lost. A
    session no tariff applies to is asked again each sweep; the window bounds that work."""
    since = timezone.now() - timedelta(days=SWEEP_WINDOW_DAYS)
    # Stopped a minute ago at least: the task queued on the stop is probably running.
    before = timezone.now() - timedelta(minutes=1)
    return list(
        ChargingSession.objects.filter(
            state=SessionState.COMPLETED, stopped_at__gte=since, stopped_at__lt=before
        )
        .exclude(charge_records__isnull=False)
        .order_by("stopped_at")
        .values_list("pk", flat=True)[:limit]
    )


def billing_settings() -> BillingSettings:
    """The scope's tenant's billing settings: its row, or the defaults (unsaved) without one."""
    return BillingSettings.objects.first() or BillingSettings()


def cost_update_seconds() -> int:
    """How often the scope's tenant sends running costs (0: never)."""
    found = BillingSettings.objects.values_list("cost_update_seconds", flat=True).first()
    return DEFAULT_COST_UPDATE_SECONDS if found is None else found


def sessions_due_a_cost(now: datetime, limit: int = 500) -> list[int]:
    """Running sessions on connected chargers whose charger was last sent their cost at least
    the tenant's interval ago (or never); none when the tenant sends no costs."""
    seconds = cost_update_seconds()
    if not seconds:
        return []
    recent = Q(running_cost__sent_at__gt=now - timedelta(seconds=seconds))
    return list(
        ChargingSession.objects.filter(state=SessionState.ACTIVE, charger__is_online=True)
        .exclude(recent)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# The portal's revenue chart looks this many months back, as its energy chart does.
REVENUE_MONTHS = 12


def revenue_per_month(site: Site, months: int = REVENUE_MONTHS) -> list[dict]:
    """A site's revenue excluding VAT per month (in its time zone, by session start), from its
    sessions' current records, and its owner's share of each month as statements reckon it:
    one chart per currency, in the currency's units, for the last `months` months."""
    tz = zoneinfo.ZoneInfo(site.timezone)
    local = timezone.localtime(timezone.now(), tz)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = (
        latest_records()
        .filter(site=site, start_date_time__gte=first)
        .annotate(month=TruncMonth("start_date_time", tzinfo=tz))
        .values("currency", "month")
        .annotate(revenue=Sum("total_excl_vat_minor"))
        .order_by("currency", "month")
    )
    share = SiteShare.objects.filter(site=site).first()
    percent = share.revenue_share_percent if share else Decimal(0)
    charts: dict[str, dict] = {}
    for row in rows:
        chart = charts.setdefault(
            row["currency"], {"currency": row["currency"], "labels": [], "revenue": [], "share": []}
        )
        chart["labels"].append(row["month"].strftime("%Y-%m"))
        chart["revenue"].append(float(pricing.from_minor(row["revenue"], row["currency"])))
        owed = invoicing.share_of(row["revenue"], percent)
        chart["share"].append(float(pricing.from_minor(owed, row["currency"])))
    return list(charts.values())
