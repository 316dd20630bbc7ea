"""A session's price under one tariff version: pure arithmetic, no database.

`price_session(tariff, periods, tz)` is the one function that prices anything (the API's
preview, the dashboard's preview, charge detail records). Its semantics are those of the OCPI
2.2.1 Tariffs module:

- For each dimension (ENERGY, TIME, PARKING_TIME, FLAT) and each moment, the first element in
  the list that has a price component of that dimension and whose restrictions hold applies;
  none applies: that moment of that dimension is free.
- Restrictions are evaluated in the site's local time (`tz`): a band whose end is before its
  start wraps past midnight; `end_date` and the `max_*` bounds are exclusive, the `min_*` bounds
  inclusive; durations count from the start of the session; kWh are counted from its start.
- A session's time is cut at every instant where a restriction can change (band edges in local
  time on every day the session touches, both sides of a DST change, midnight, duration and
  energy thresholds), so each slice is priced by exactly one element per dimension.
- Step sizes: the step size of the component used last for a dimension applies to the total of
  that dimension (the module's "switching to a different Tariff Element" examples); the extra
  quantity is billed at that last component's price. Charging time that an element bills beyond
  the real one covers the parking time the same element prices right after it (the module's
  step-size example #1, where two minutes of parking are not billed; in its complex example
  other elements price parking, and all of it is billed).
- `min_price` and `max_price` bound the total excluding VAT and, where given, including VAT.

Numbers are `Decimal` throughout, intermediates kept exact to PRECISION digits. One rounding
rule (ROUND_HALF_UP to the currency's minor unit, which babel knows) applies in exactly two
places: each line's amount excluding VAT, and each VAT group's VAT (the rate times the sum of its
lines), as EN 16931 invoices compute VAT. Totals are sums of rounded figures.

Beyond OCPI, a tariff may have a parking grace period: the first `parking_grace_seconds` of
parking time in a session are not billed.

Reservations (`price_reservation`): the elements restricted to `RESERVATION` price a
reservation from when it was made until it was used or expired, by FLAT and TIME (per hour of
reservation); an expired one is priced by the `RESERVATION_EXPIRES` elements first and by the
`RESERVATION` ones for a dimension those leave out (the module's ReservationRestrictionType).
Their other restrictions are read as a session's, over the reservation's time. `with_reservation`
adds a used reservation's lines to the session's: one record, VAT grouped over both.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from babel.numbers import get_currency_precision, list_currencies

ENERGY = "ENERGY"
FLAT = "FLAT"
PARKING_TIME = "PARKING_TIME"
TIME = "TIME"
DIMENSIONS = (ENERGY, FLAT, PARKING_TIME, TIME)
# What one unit of price means per dimension: per kWh (quantities are Wh), per hour
# (quantities are seconds), per session.
UNIT = {ENERGY: Decimal(1000), TIME: Decimal(3600), PARKING_TIME: Decimal(3600), FLAT: Decimal(1)}
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
RESERVATION_KINDS = ("RESERVATION", "RESERVATION_EXPIRES")

ROUNDING = ROUND_HALF_UP
# Digits kept in intermediates: a kWh split over a band edge is a repeating fraction; 60 digits
# leave any rounding error 40 orders of magnitude below a cent.
PRECISION = 60
ZERO = Decimal(0)
# Quantities are exact to 1e-20 Wh or second: band edges split energy into repeating fractions,
# whose last digits differ with how a session was cut into periods.
QUANTUM = Decimal("1e-20")


class TariffError(ValueError):
    """A tariff that cannot be priced; `field` names what is wrong, OCPI-spelled and dotted
    (`elements.0.price_components.1.step_size`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- The tariff ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceComponent:
    type: str
    price: Decimal
    step_size: int = 1
    vat: Decimal | None = None  # a percentage; None is "no VAT applies" (not the same as 0)


@dataclass(frozen=True)
class Restrictions:
    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[str] = frozenset()
    reservation: str | None = None


@dataclass(frozen=True)
class Element:
    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions | None = None


@dataclass(frozen=True)
class Price:
    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True)
class Tariff:
    currency: str
    elements: tuple[Element, ...]
    min_price: Price | None = None
    max_price: Price | None = None
    parking_grace_seconds: int = 0


# --- The session -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A stretch of a session with one state: charging (energy flows; its time is TIME) or not
    (PARKING_TIME). Energy is taken to flow evenly within it. `power_kw` and `current_a` are
    what restrictions compare (the average power when `power_kw` is None)."""

    start: datetime
    end: datetime
    energy_wh: Decimal = ZERO
    charging: bool = True
    current_a: Decimal | None = None
    power_kw: Decimal | None = None


@dataclass(frozen=True)
class Line:
    type: str
    element: int  # the index of the tariff element whose component priced it
    price: Decimal
    vat: Decimal | None
    step_size: int
    volume: Decimal  # billed, in OCPI's units: kWh, hours, 1 for FLAT
    excl_vat: Decimal  # rounded to the currency's minor unit
    reservation: bool = False  # a reservation's cost, not the session's

    def as_dict(self) -> dict[str, Any]:
        line = {
            "type": self.type,
            "element": self.element,
            "price": str(self.price),
            "vat": None if self.vat is None else str(self.vat),
            "step_size": self.step_size,
            "volume": str(self.volume),
            "excl_vat": str(self.excl_vat),
        }
        if self.reservation:
            line["reservation"] = True
        return line


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal | None
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Priced:
    currency: str
    lines: tuple[Line, ...]
    vat_groups: tuple[VatGroup, ...]
    # What min_price or max_price changed, excluding and including VAT (zero: nothing).
    adjustment_excl_vat: Decimal
    adjustment_incl_vat: Decimal
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    total_energy: Decimal  # kWh
    total_time: Decimal  # hours, the whole session (OCPI's CDR total_time)
    total_charging_time: Decimal  # hours
    total_parking_time: Decimal  # hours
    billed: Mapping[str, Decimal] = field(default_factory=dict)  # per dimension, OCPI units

    @property
    def total_vat(self) -> Decimal:
        return self.total_incl_vat - self.total_excl_vat

    def cost_of(self, dimension: str) -> Decimal:
        return sum((line.excl_vat for line in self.lines if line.type == dimension), ZERO)


# --- Money -----------------------------------------------------------------------------------


def exponent(currency: str) -> int:
    """The currency's minor-unit digits (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def is_currency(code: str) -> bool:
    return code in _currencies()


_known: set[str] = set()


def _currencies() -> set[str]:
    if not _known:
        _known.update(list_currencies())
    return _known


def round_money(amount: Decimal, currency: str) -> Decimal:
    """The one rounding rule: half up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUNDING)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount already rounded to the minor unit, as an integer of minor units."""
    return int(round_money(amount, currency).scaleb(exponent(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    return (
        Decimal(minor).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency)))
    )


# --- Pricing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slice:
    """A piece of a period within which no restriction changes."""

    start: Decimal  # seconds since the session's start
    seconds: Decimal
    energy_wh: Decimal
    kwh_before: Decimal  # energy of the session before this slice, kWh
    charging: bool
    local: datetime  # the slice's middle, in the site's time zone
    current_a: Decimal | None
    power_kw: Decimal | None

    @property
    def elapsed(self) -> Decimal:
        return self.start + self.seconds / 2

    @property
    def kwh(self) -> Decimal:
        return self.kwh_before + self.energy_wh / 2000


def price_session(tariff: Tariff, periods: Sequence[Period], tz: tzinfo) -> Priced:
    """The price of a session of `periods` (in any order, not overlapping) under `tariff`, its
    band edges in the time zone `tz`. Raises ValueError for periods that make no session."""
    ordered = _checked(periods)
    with localcontext() as context:
        context.prec = PRECISION
        slices = _slices(tariff, ordered, tz)
        return _priced(tariff, ordered, slices)


RESERVATION_DIMENSIONS = (FLAT, TIME)


def reservation_elements(tariff: Tariff, *, expired: bool) -> list[tuple[int, Element]]:
    """The elements that price a reservation, in the order they are tried, with their index
    in the tariff: an expired one's `RESERVATION_EXPIRES` elements before the `RESERVATION`
    ones; a used one's `RESERVATION` elements only."""
    kinds = ("RESERVATION_EXPIRES", "RESERVATION") if expired else ("RESERVATION",)
    return [
        (index, element)
        for kind in kinds
        for index, element in enumerate(tariff.elements)
        if element.restrictions is not None and element.restrictions.reservation == kind
    ]


def price_reservation(
    tariff: Tariff, start: datetime, end: datetime, tz: tzinfo, *, expired: bool
) -> Priced | None:
    """A reservation's cost from `start` (made) to `end` (used or expired) under `tariff`'s
    reservation elements, or None when it has none. Its lines say `reservation`; `min_price`
    and `max_price` bound sessions, not reservations."""
    chosen = reservation_elements(tariff, expired=expired)
    if not chosen:
        return None
    if end < start:
        raise ValueError("a reservation ends before it starts")
    # The reservation as a session of its own: its time is TIME, priced by those elements
    # alone, their reservation restriction lifted and the others read as usual.
    alone = Tariff(
        currency=tariff.currency,
        elements=tuple(
            Element(
                tuple(c for c in element.price_components if c.type in RESERVATION_DIMENSIONS),
                replace(element.restrictions, reservation=None) if element.restrictions else None,
            )
            for _, element in chosen
        ),
    )
    priced = price_session(alone, [Period(start, end, charging=True)], tz)
    lines = tuple(
        replace(line, element=chosen[line.element][0], reservation=True) for line in priced.lines
    )
    return replace(priced, lines=lines)


def with_reservation(session: Priced, reservation: Priced | None) -> Priced:
    """A session's price with the reservation it used: both lines, VAT grouped (and rounded)
    over both, the session's min/max adjustment kept as it was."""
    if reservation is None:
        return session
    lines = session.lines + reservation.lines
    groups = _vat_groups(list(lines), session.currency)
    excl = sum((line.excl_vat for line in lines), ZERO)
    incl = excl + sum((group.vat for group in groups), ZERO)
    billed = dict(session.billed)
    return replace(
        session,
        lines=lines,
        vat_groups=groups,
        total_excl_vat=round_money(excl + session.adjustment_excl_vat, session.currency),
        total_incl_vat=round_money(incl + session.adjustment_incl_vat, session.currency),
        billed=billed,
    )


def _checked(periods: Sequence[Period]) -> list[Period]:
    if not periods:
        raise ValueError("a session needs at least one period")
    ordered = sorted(periods, key=lambda p: p.start)
    for before, period in zip([None, *ordered], ordered, strict=False):
        if period.start.tzinfo is None or period.end.tzinfo is None:
            raise ValueError("period times must be aware")
        if period.end < period.start:
            raise ValueError("a period ends before it starts")
        if period.energy_wh < 0:
            raise ValueError("a period's energy cannot be negative")
        if period.energy_wh and not period.charging:
            raise ValueError("energy flows only in charging periods")
        if period.energy_wh and period.end == period.start:
            raise ValueError("energy needs time to flow")
        if before is not None and period.start < before.end:
            raise ValueError("periods overlap")
    return ordered


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1000000


def _edges(tariff: Tariff, origin: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
    """Every instant between `origin` and `end` where a time-based restriction may change."""
    times = {time(0, 0)}
    durations = set()
    for element in tariff.elements:
        r = element.restrictions
        if r is None:
            continue
        times |= {t for t in (r.start_time, r.end_time) if t is not None}
        durations |= {d for d in (r.min_duration, r.max_duration) if d is not None}
    edges = {origin + timedelta(seconds=d) for d in durations}
    first = origin.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    day = first
    while day <= last:
        for t in times:
            naive = datetime.combine(day, t)
            # Both readings of a wall-clock time that a DST change repeats or skips.
            for fold in (0, 1):
                edges.add(naive.replace(tzinfo=tz, fold=fold).astimezone(UTC))
        edges |= _offset_changes(day, tz)
        day += timedelta(days=1)
    return sorted(e for e in edges if origin < e < end)


def _offset_changes(day: date, tz: tzinfo) -> set[datetime]:
    """The instants of `day` (local) where the zone's UTC offset changes (DST)."""
    low = datetime.combine(day, time(0)).replace(tzinfo=tz).astimezone(UTC)
    high = low + timedelta(days=1)
    if low.astimezone(tz).utcoffset() == high.astimezone(tz).utcoffset():
        return set()
    before = low.astimezone(tz).utcoffset()
    # Offsets change on whole seconds: bisect to one.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return {high}


def _slices(tariff: Tariff, periods: list[Period], tz: tzinfo) -> list[_Slice]:
    origin = periods[0].start
    edges = _edges(tariff, origin, periods[-1].end, tz)
    thresholds = sorted(
        {
            Decimal(v) * 1000
            for element in tariff.elements
            if element.restrictions is not None
            for v in (element.restrictions.min_kwh, element.restrictions.max_kwh)
            if v is not None
        }
    )
    slices: list[_Slice] = []
    energy_before = ZERO
    for period in periods:
        start = _seconds(period.start - origin)
        length = _seconds(period.end - period.start)
        cuts = {start, start + length}
        low = bisect.bisect_right(edges, period.start)
        high = bisect.bisect_left(edges, period.end)
        cuts |= {_seconds(edge - origin) for edge in edges[low:high]}
        for wh in thresholds:
            if energy_before < wh < energy_before + period.energy_wh:
                cuts.add(start + (wh - energy_before) * length / period.energy_wh)
        points = sorted(cuts)
        power = period.power_kw
        if power is None:
            power = period.energy_wh * Decimal("3.6") / length if length else None
        if not period.charging:
            power = ZERO if power is None else power
        current = period.current_a if period.charging or period.current_a else ZERO
        given = ZERO
        pieces = list(zip(points, points[1:], strict=False)) or [(start, start)]
        for index, (a, b) in enumerate(pieces):
            seconds = b - a
            if index == len(pieces) - 1:
                energy = period.energy_wh - given  # the remainder: nothing lost to division
            else:
                energy = period.energy_wh * seconds / length
            given += energy
            middle = origin + timedelta(microseconds=int((a + seconds / 2) * 1000000))
            slices.append(
                _Slice(
                    start=a,
                    seconds=seconds,
                    energy_wh=energy,
                    kwh_before=(energy_before + given - energy) / 1000,
                    charging=period.charging,
                    local=middle.astimezone(tz),
                    current_a=current,
                    power_kw=power,
                )
            )
        energy_before += period.energy_wh
    return slices


def _in_band(at: time, start: time | None, end: time | None) -> bool:
    if start is None and end is None:
        return True
    if start is None:
        return at < end  # type: ignore[operator]
    if end is None:
        return at >= start
    if start < end:
        return start <= at < end
    if start > end:  # wraps past midnight
        return at >= start or at < end
    return True


def _within(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        # An unknown current or power proves no element with such a restriction: the
        # tariff's fallback element (OCPI advises one per dimension) prices it.
        return False
    return (low is None or value >= low) and (high is None or value < high)


def matches(restrictions: Restrictions | None, piece: _Slice) -> bool:
    r = restrictions
    if r is None:
        return True
    if r.reservation is not None:
        return False  # reservation costs are no part of a session's periods
    local = piece.local
    if r.day_of_week and DAYS[local.weekday()] not in r.day_of_week:
        return False
    if r.start_date is not None and local.date() < r.start_date:
        return False
    if r.end_date is not None and local.date() >= r.end_date:
        return False
    if not _in_band(local.time(), r.start_time, r.end_time):
        return False
    if r.min_duration is not None and piece.elapsed < r.min_duration:
        return False
    if r.max_duration is not None and piece.elapsed >= r.max_duration:
        return False
    if not _within(piece.kwh, r.min_kwh, r.max_kwh):
        return False
    return _within(piece.current_a, r.min_current, r.max_current) and _within(
        piece.power_kw, r.min_power, r.max_power
    )


def _component(tariff: Tariff, dimension: str, piece: _Slice) -> tuple[int, PriceComponent] | None:
    for index, element in enumerate(tariff.elements):
        for component in element.price_components:
            if component.type == dimension and matches(element.restrictions, piece):
                return index, component
    return None


class _Tally:
    """Quantities per (dimension, element), in base units (Wh, seconds, sessions)."""

    def __init__(self) -> None:
        self.quantity: dict[tuple[str, int], Decimal] = {}
        self.component: dict[tuple[str, int], PriceComponent] = {}
        self.last: dict[str, int] = {}

    def add(self, dimension: str, found: tuple[int, PriceComponent] | None, amount: Decimal):
        if found is None or amount <= 0:
            return
        index, component = found
        key = (dimension, index)
        self.quantity[key] = self.quantity.get(key, ZERO) + amount
        self.component[key] = component
        self.last[dimension] = index

    def step(self, dimension: str) -> Decimal:
        """Bill the dimension's total in steps of its last component; returns the extra."""
        if dimension not in self.last:
            return ZERO
        key = (dimension, self.last[dimension])
        total = self.total(dimension).quantize(QUANTUM)
        step = Decimal(self.component[key].step_size)
        billed = math.ceil(total / step) * step
        extra = billed - total
        self.quantity[key] += extra
        return extra

    def total(self, dimension: str) -> Decimal:
        return sum((q for (d, _), q in self.quantity.items() if d == dimension), ZERO)


def _priced(tariff: Tariff, periods: list[Period], slices: list[_Slice]) -> Priced:
    tally = _Tally()
    tally.add(FLAT, _component(tariff, FLAT, slices[0]), Decimal(1))
    for piece in slices:
        if piece.energy_wh:
            tally.add(ENERGY, _component(tariff, ENERGY, piece), piece.energy_wh)
        if piece.charging and piece.seconds:
            tally.add(TIME, _component(tariff, TIME, piece), piece.seconds)
    tally.step(ENERGY)
    extra_time = tally.step(TIME)
    time_element = tally.last.get(TIME)
    grace = Decimal(tariff.parking_grace_seconds)
    for piece in slices:
        if piece.charging or not piece.seconds:
            continue
        found = _component(tariff, PARKING_TIME, piece)
        seconds = piece.seconds
        covered = min(grace, seconds)
        grace -= covered
        seconds -= covered
        if found is not None and found[0] == time_element:
            # The element billed charging time beyond the real one: parking it prices within
            # that extra time is paid for already (the module's step-size example #1; its
            # complex example, where other elements price parking, bills all of it).
            covered = min(extra_time, seconds)
            extra_time -= covered
            seconds -= covered
        tally.add(PARKING_TIME, found, seconds)
    tally.step(PARKING_TIME)

    currency = tariff.currency
    lines = []
    for (dimension, index), exact_quantity in tally.quantity.items():
        component = tally.component[(dimension, index)]
        # Dropping the last digits of repeating fractions (QUANTUM) makes a session cut
        # into more periods sum to the same.
        quantity = exact_quantity.quantize(QUANTUM)
        exact = component.price * quantity / UNIT[dimension]
        lines.append(
            Line(
                type=dimension,
                element=index,
                price=component.price,
                vat=component.vat,
                step_size=component.step_size,
                volume=_volume(quantity / UNIT[dimension]),
                excl_vat=round_money(exact, currency),
            )
        )
    lines.sort(key=lambda line: (DIMENSIONS.index(line.type), line.element))
    groups = _vat_groups(lines, currency)
    excl = sum((line.excl_vat for line in lines), ZERO)
    incl = excl + sum((group.vat for group in groups), ZERO)
    bounded_excl, bounded_incl = _bounded(tariff, excl, incl)
    # Sums of rounded figures need no rounding; quantizing writes them with the minor unit.
    excl, incl = round_money(excl, currency), round_money(incl, currency)
    bounded_excl, bounded_incl = (
        round_money(bounded_excl, currency),
        round_money(bounded_incl, currency),
    )

    charging = sum((s.seconds for s in slices if s.charging), ZERO)
    parking = sum((s.seconds for s in slices if not s.charging), ZERO)
    return Priced(
        currency=currency,
        lines=tuple(lines),
        vat_groups=groups,
        adjustment_excl_vat=bounded_excl - excl,
        adjustment_incl_vat=bounded_incl - incl,
        total_excl_vat=bounded_excl,
        total_incl_vat=bounded_incl,
        total_energy=_volume(sum((p.energy_wh for p in periods), ZERO) / 1000),
        total_time=_volume(_seconds(periods[-1].end - periods[0].start) / 3600),
        total_charging_time=_volume(charging / 3600),
        total_parking_time=_volume(parking / 3600),
        billed={d: _volume(tally.total(d) / UNIT[d]) for d in DIMENSIONS if d in tally.last},
    )


def _volume(value: Decimal) -> Decimal:
    """A quantity as shown (kWh, hours): six decimals, a thousandth of a Wh, 3.6 ms."""
    return value.quantize(Decimal("0.000001"), rounding=ROUNDING)


def _vat_groups(lines: list[Line], currency: str) -> tuple[VatGroup, ...]:
    bases: dict[Decimal | None, Decimal] = {}
    for line in lines:
        bases[line.vat] = bases.get(line.vat, ZERO) + line.excl_vat
    return tuple(
        VatGroup(
            rate=rate,
            base=base,
            vat=ZERO if rate is None else round_money(base * rate / 100, currency),
        )
        for rate, base in sorted(bases.items(), key=lambda item: (item[0] is None, item[0] or 0))
    )


def _bounded(tariff: Tariff, excl: Decimal, incl: Decimal) -> tuple[Decimal, Decimal]:
    """min_price and max_price: as OCPI says, each bound applies to the total excluding VAT
    and to the total including VAT (`tariff_from_ocpi` fills a bound's missing incl_vat)."""
    currency = tariff.currency
    for bound, limit in ((tariff.min_price, max), (tariff.max_price, min)):
        if bound is not None:
            excl = limit(excl, round_money(bound.excl_vat, currency))
            if bound.incl_vat is not None:
                incl = limit(incl, round_money(bound.incl_vat, currency))
    return excl, max(incl, excl)


# --- OCPI's JSON form ------------------------------------------------------------------------


def _number(data: Mapping[str, Any], key: str, where: str, *, required: bool = False):
    value = data.get(key)
    if value is None:
        if required:
            raise TariffError(f"{where}{key}", "This field is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TariffError(f"{where}{key}", "A number is required.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise TariffError(f"{where}{key}", "A number is required.") from None
    if not number.is_finite():
        raise TariffError(f"{where}{key}", "A number is required.")
    if number < 0:
        raise TariffError(f"{where}{key}", "Must not be negative.")
    return number


def _integer(data: Mapping[str, Any], key: str, where: str) -> int | None:
    number = _number(data, key, where)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise TariffError(f"{where}{key}", "A whole number is required.")
    return int(number)


def _clock(data: Mapping[str, Any], key: str, where: str) -> time | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise TariffError(f"{where}{key}", "Use HH:MM, 24-hour, with leading zeros.")
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError:
        raise TariffError(f"{where}{key}", "Use HH:MM, 24-hour, with leading zeros.") from None


def _day(data: Mapping[str, Any], key: str, where: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise TariffError(f"{where}{key}", "Use YYYY-MM-DD.") from None


def _price(data: Any, key: str) -> Price | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TariffError(key, 'An object {"excl_vat": ..., "incl_vat": ...} is required.')
    excl = _number(data, "excl_vat", f"{key}.", required=True)
    incl = _number(data, "incl_vat", f"{key}.")
    if incl is not None and incl < excl:
        raise TariffError(f"{key}.incl_vat", "Must not be less than excl_vat.")
    return Price(excl_vat=excl, incl_vat=incl)


def _with_vat(price: Price | None, rates: set[Decimal | None], key: str) -> Price | None:
    """A bound without incl_vat, completed: with one VAT rate in the tariff it is that rate's
    share on top; with several, no one figure is right and the tariff must say."""
    if price is None or price.incl_vat is not None:
        return price
    if len(rates) > 1:
        raise TariffError(
            f"{key}.incl_vat", "Required when the price components have different VAT rates."
        )
    rate = next(iter(rates), None) or ZERO
    return Price(excl_vat=price.excl_vat, incl_vat=price.excl_vat * (100 + rate) / 100)


RESTRICTION_FIELDS = (
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "min_kwh",
    "max_kwh",
    "min_current",
    "max_current",
    "min_power",
    "max_power",
    "min_duration",
    "max_duration",
    "day_of_week",
    "reservation",
)


def _restrictions(data: Any, where: str) -> Restrictions | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TariffError(where.rstrip("."), "An object is required.")
    unknown = sorted(set(data) - set(RESTRICTION_FIELDS))
    if unknown:
        raise TariffError(f"{where}{unknown[0]}", "Not a restriction of OCPI 2.2.1.")
    days = data.get("day_of_week") or []
    if not isinstance(days, list) or any(d not in DAYS for d in days):
        raise TariffError(f"{where}day_of_week", f"A list of {', '.join(DAYS)}.")
    reservation = data.get("reservation")
    if reservation is not None and reservation not in RESERVATION_KINDS:
        raise TariffError(f"{where}reservation", "RESERVATION or RESERVATION_EXPIRES.")
    r = Restrictions(
        start_time=_clock(data, "start_time", where),
        end_time=_clock(data, "end_time", where),
        start_date=_day(data, "start_date", where),
        end_date=_day(data, "end_date", where),
        min_kwh=_number(data, "min_kwh", where),
        max_kwh=_number(data, "max_kwh", where),
        min_current=_number(data, "min_current", where),
        max_current=_number(data, "max_current", where),
        min_power=_number(data, "min_power", where),
        max_power=_number(data, "max_power", where),
        min_duration=_integer(data, "min_duration", where),
        max_duration=_integer(data, "max_duration", where),
        day_of_week=frozenset(days),
        reservation=reservation,
    )
    for low, high in (
        ("start_date", "end_date"),
        ("min_kwh", "max_kwh"),
        ("min_current", "max_current"),
        ("min_power", "max_power"),
        ("min_duration", "max_duration"),
    ):
        a, b = getattr(r, low), getattr(r, high)
        if a is not None and b is not None and b <= a:
            raise TariffError(f"{where}{high}", f"Must be greater than {low}.")
    return r


def _component_of(data: Any, where: str) -> PriceComponent:
    if not isinstance(data, Mapping):
        raise TariffError(where.rstrip("."), "An object is required.")
    kind = data.get("type")
    if kind not in DIMENSIONS:
        raise TariffError(f"{where}type", f"One of {', '.join(DIMENSIONS)}.")
    price = _number(data, "price", where, required=True)
    vat = _number(data, "vat", where)
    if vat is not None and vat > 100:
        raise TariffError(f"{where}vat", "A percentage from 0 to 100.")
    step = _integer(data, "step_size", where)
    step = 1 if step is None else step
    if step < 1:
        raise TariffError(f"{where}step_size", "At least 1.")
    return PriceComponent(type=kind, price=price, vat=vat, step_size=step)


def tariff_from_ocpi(
    data: Mapping[str, Any], *, currency: str | None = None, parking_grace_seconds: int = 0
) -> Tariff:
    """The tariff of an OCPI 2.2.1 Tariff object's pricing fields (`currency`, `elements`,
    `min_price`, `max_price`); TariffError names the field at fault."""
    code = currency if currency is not None else data.get("currency")
    if not isinstance(code, str) or not is_currency(code):
        raise TariffError("currency", "An ISO 4217 currency code such as EUR.")
    raw = data.get("elements")
    if not isinstance(raw, list) or not raw:
        raise TariffError("elements", "At least one tariff element is required.")
    elements = []
    for i, element in enumerate(raw):
        where = f"elements.{i}."
        if not isinstance(element, Mapping):
            raise TariffError(f"elements.{i}", "An object is required.")
        components = element.get("price_components")
        if not isinstance(components, list) or not components:
            raise TariffError(f"{where}price_components", "At least one price component.")
        elements.append(
            Element(
                price_components=tuple(
                    _component_of(c, f"{where}price_components.{j}.")
                    for j, c in enumerate(components)
                ),
                restrictions=_restrictions(element.get("restrictions"), f"{where}restrictions."),
            )
        )
    if parking_grace_seconds < 0:
        raise TariffError("parking_grace_period", "Must not be negative.")
    rates = {c.vat for element in elements for c in element.price_components}
    tariff = Tariff(
        currency=code,
        elements=tuple(elements),
        min_price=_with_vat(_price(data.get("min_price"), "min_price"), rates, "min_price"),
        max_price=_with_vat(_price(data.get("max_price"), "max_price"), rates, "max_price"),
        parking_grace_seconds=parking_grace_seconds,
    )
    if tariff.min_price and tariff.max_price:
        if tariff.max_price.excl_vat < tariff.min_price.excl_vat:
            raise TariffError("max_price.excl_vat", "Must not be less than min_price.")
    return tariff


def normalised_elements(data: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The elements as they are stored and shown: OCPI's fields, numbers as JSON numbers
    only where they are exact (strings otherwise would surprise OCPI clients), no nulls."""
    elements = []
    for element in data:
        out: dict[str, Any] = {
            "price_components": [
                {
                    key: plain(component[key])
                    for key in ("type", "price", "vat", "step_size")
                    if component.get(key) is not None
                }
                for component in element["price_components"]
            ]
        }
        restrictions = element.get("restrictions")
        if restrictions:
            kept = {
                key: plain(restrictions[key])
                for key in RESTRICTION_FIELDS
                if restrictions.get(key) not in (None, [])
            }
            if kept:
                out["restrictions"] = kept
        elements.append(out)
    return elements


def plain(value: Any) -> Any:
    """A Decimal as the JSON number it is: an int when whole."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
