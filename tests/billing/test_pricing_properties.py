"""Properties of the pricing function over generated tariffs and sessions.

OCPI's step-size rule bills a dimension's total in the steps of its last element, at that
element's price, so a session cut off earlier, or with energy shifted to another element, can
cost more than a longer one (the module's step-size example #2 bills 45 minutes for 35). The
monotonicity properties hold for what OCPI makes monotone: whole Wh and seconds with every
dimension falling back to an unrestricted element, without restrictions on energy, power or
current, adding energy to a period or time at the session's end."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.pricing import Period, price_session, tariff_from_ocpi

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
KINDS = ["ENERGY", "TIME", "PARKING_TIME", "FLAT"]

prices = st.decimals(min_value=0, max_value=5, places=2).map(float)
vats = st.sampled_from([None, 0, 7, 19, 20.5])
clock = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30])).map(
    lambda hm: f"{hm[0]:02d}:{hm[1]:02d}"
)


@st.composite
def restrictions(draw, *, energy_bound: bool):
    kept = {}
    if draw(st.booleans()):
        kept["start_time"] = draw(clock)
    if draw(st.booleans()):
        kept["end_time"] = draw(clock)
    if draw(st.booleans()):
        kept["day_of_week"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))
    if draw(st.booleans()):
        low = draw(st.integers(0, 7200))
        kept["min_duration"] = low
        if draw(st.booleans()):
            kept["max_duration"] = low + draw(st.integers(60, 7200))
    if energy_bound and draw(st.booleans()):
        low = draw(st.integers(0, 30))
        kept["min_kwh"] = low
        kept["max_kwh"] = low + draw(st.integers(1, 30))
    if energy_bound and draw(st.booleans()):
        kept["max_power"] = draw(st.integers(5, 50))
    if energy_bound and draw(st.booleans()):
        kept["min_current"] = draw(st.integers(6, 64))
    return kept


@st.composite
def tariffs(draw, *, monotone: bool = False):
    """OCPI tariffs; `monotone`: whole-unit steps, no energy, power or current restrictions,
    and an unrestricted element last for every dimension."""

    def component(kind):
        step = 1 if monotone else draw(st.sampled_from([1, 60, 300, 900, 1000]))
        data = {"type": kind, "price": draw(prices), "step_size": step}
        vat = draw(vats)
        if vat is not None:
            data["vat"] = vat
        return data

    elements = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4, unique=True))
        element = {"price_components": [component(kind) for kind in kinds]}
        kept = draw(restrictions(energy_bound=not monotone))
        if kept:
            element["restrictions"] = kept
        elements.append(element)
    if monotone:
        elements.append({"price_components": [component(kind) for kind in KINDS]})
    data = {"currency": draw(st.sampled_from(["EUR", "EUR", "JPY", "KWD"])), "elements": elements}
    low = draw(prices)
    if draw(st.booleans()):
        data["min_price"] = {"excl_vat": low, "incl_vat": low * 1.25}
    if draw(st.booleans()):
        data["max_price"] = {"excl_vat": low + 20, "incl_vat": (low + 20) * 1.25}
    grace = draw(st.sampled_from([0, 0, 600, 1800]))
    return tariff_from_ocpi(data, parking_grace_seconds=grace)


@st.composite
def sessions(draw):
    """Periods of whole minutes, charging ones with whole Wh per minute, a power each."""
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(0, 366 * 24 * 60))
    )
    periods = []
    for _ in range(draw(st.integers(1, 4))):
        minutes = draw(st.integers(1, 240))
        charging = draw(st.booleans())
        per_minute = draw(st.integers(0, 800)) if charging else 0
        end = start + timedelta(minutes=minutes)
        periods.append(
            Period(
                start=start,
                end=end,
                energy_wh=Decimal(per_minute * minutes),
                charging=charging,
                power_kw=Decimal(per_minute * 60) / 1000 if charging else Decimal(0),
                current_a=Decimal(draw(st.integers(0, 96))) if charging else None,
            )
        )
        start = end
    return periods, ZoneInfo(draw(st.sampled_from(ZONES)))


def total(tariff, periods, tz):
    priced = price_session(tariff, periods, tz)
    return priced.total_excl_vat, priced.total_incl_vat


def split(period: Period, minutes: int) -> list[Period]:
    """The same period as two, cut after `minutes`, energy flowing as evenly as before."""
    length = int((period.end - period.start).total_seconds()) // 60
    middle = period.start + timedelta(minutes=minutes)
    first_energy = period.energy_wh * minutes / length
    return [
        replace(period, end=middle, energy_wh=first_energy),
        replace(period, start=middle, energy_wh=period.energy_wh - first_energy),
    ]


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(tariffs(), sessions())
def test_a_price_is_never_negative(tariff, session):
    periods, tz = session

    excl, incl = total(tariff, periods, tz)

    assert excl >= 0
    assert incl >= excl


@PROPERTY
@given(tariffs(), sessions())
def test_the_same_session_costs_the_same(tariff, session):
    periods, tz = session

    assert total(tariff, periods, tz) == total(tariff, list(reversed(periods)), tz)
    assert price_session(tariff, periods, tz) == price_session(tariff, periods, tz)


@PROPERTY
@given(tariffs(), sessions(), st.data())
def test_cutting_a_period_in_two_changes_nothing(tariff, session, data):
    periods, tz = session
    index = data.draw(st.integers(0, len(periods) - 1))
    length = int((periods[index].end - periods[index].start).total_seconds()) // 60
    if length < 2:
        return
    cut = data.draw(st.integers(1, length - 1))
    finer = periods[:index] + split(periods[index], cut) + periods[index + 1 :]

    assert total(tariff, finer, tz) == total(tariff, periods, tz)


@PROPERTY
@given(tariffs(monotone=True), sessions(), st.data())
def test_more_energy_never_costs_less(tariff, session, data):
    periods, tz = session
    charging = [i for i, p in enumerate(periods) if p.charging]
    if not charging:
        return
    index = data.draw(st.sampled_from(charging))
    more = data.draw(st.integers(1, 50_000))
    bigger = list(periods)
    bigger[index] = replace(periods[index], energy_wh=periods[index].energy_wh + more)

    before, after = total(tariff, periods, tz), total(tariff, bigger, tz)

    assert after[0] >= before[0]
    assert after[1] >= before[1]


@PROPERTY
@given(tariffs(monotone=True), sessions(), st.integers(1, 600), st.booleans())
def test_more_time_never_costs_less(tariff, session, minutes, charging):
    periods, tz = session
    end = periods[-1].end
    longer = [
        *periods,
        Period(
            start=end,
            end=end + timedelta(minutes=minutes),
            energy_wh=Decimal(0),
            charging=charging,
            power_kw=Decimal(0),
            current_a=Decimal(0),
        ),
    ]

    before, after = total(tariff, periods, tz), total(tariff, longer, tz)

    assert after[0] >= before[0]
    assert after[1] >= before[1]
