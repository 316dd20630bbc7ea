"""Pure arithmetic of meters, clocks and sessions: samples, plausible timestamps, a session's
register and energy, and what a report of a transaction changes of its session. No database:
table-driven and property-based tests cover it (tests/chargers/test_metering.py).

Samples and transaction reports arrive here in domain terms, whichever OCPP version sent them
(`chargers.ocpp.samples` and the handlers translate).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.utils import timezone

from chargers.models import SessionState

# The plausible window of a charger's clock: from 2010 (before OCPP-J chargers existed; a
# clock reset after a power loss says 1970 or 2000) to a day past the server's receipt time
# (nothing reported can have happened later; a day absorbs a clock set in the wrong zone).
# A time outside it is implausible: the message log keeps it as sent, and the rows it would
# date (sessions, samples, statuses, events) take the server's receipt time instead, flagged
# `timestamp_suspect` where the row has the flag. Pages never meet a year 1 or 9999 that
# way; rows stored before are shown as given (`local_time`) and left out of charts.
CLOCK_TOLERANCE_FUTURE = timedelta(days=1)
EARLIEST_PLAUSIBLE = datetime(2010, 1, 1, tzinfo=UTC)

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
# Units of the energy register and of power, to Wh and W; a missing unit means Wh (or W).
TO_BASE_UNIT = {"Wh": 1, "kWh": 1000, "W": 1, "kW": 1000}
# Where a meter measures what the car gets; a sample from elsewhere (Inlet, EV) is kept but
# does not move the session's figures.
OUTLET = ("", "Outlet")


def latest_plausible(now: datetime) -> datetime:
    """The latest time a charger can plausibly report when the server's clock says `now`."""
    return now + CLOCK_TOLERANCE_FUTURE


def is_suspect(at: datetime, now: datetime | None = None) -> bool:
    """Whether a charger's time lies outside the plausible window (it is then replaced)."""
    now = now or timezone.now()
    return at > latest_plausible(now) or at < EARLIEST_PLAUSIBLE


class ChargerTime(NamedTuple):
    """A time a charger reported, as the rows it dates keep it."""

    at: datetime  # as sent when plausible; the server's receipt time otherwise
    suspect: bool


def charger_time(sent: datetime, received: datetime) -> ChargerTime:
    """The time to keep of a charger's `sent` time, received at `received`: itself when it is
    plausible, the receipt time (flagged) when not."""
    if is_suspect(sent, received):
        return ChargerTime(received, True)
    return ChargerTime(sent, False)


def local_time(moment: datetime, tz: tzinfo) -> datetime:
    """`moment` in the zone `tz`; in UTC when the zone's time is not a datetime (a year 9999
    east of UTC, a year 1 west of it: rows stored before times were checked)."""
    for zone in (tz, UTC):
        try:
            return moment.astimezone(zone)
        except OverflowError:
            continue
    return moment


def to_decimal(value) -> Decimal | None:
    """A finite number as a Decimal; None for anything else (text, NaN, infinity)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# Samples and a session's figures are named tuples, not dataclasses: a MeterValues makes
# nine samples and moves a session's figures, and a frozen dataclass costs several times a
# tuple to build (measured: 74 us against 15 us for one reading of a running session).


class Sample(NamedTuple):
    """One sampled value, with the standard's defaults made explicit, so that a resend with
    and without them is recognised as the same sample (MeterSample's unique constraint)."""

    timestamp: datetime
    measurand: str
    value: Decimal | None  # None for signed data and values that are not numbers
    unit: str = ""
    phase: str = ""
    location: str = "Outlet"
    context: str = "Sample.Periodic"
    signed_data: str = ""  # signed values, and raw ones that are not numbers, verbatim

    @property
    def base_value(self) -> Decimal | None:
        """The value in Wh or W; None when it is not a number or its unit is not one of
        those (a missing unit counts as Wh)."""
        factor = TO_BASE_UNIT.get(self.unit or "Wh")
        if factor is None or self.value is None:
            return None
        return self.value * factor


def samples_received(samples: Iterable[Sample], received: datetime) -> list[Sample]:
    """Samples as their rows keep them: an implausible time becomes the receipt time."""
    return [
        sample
        if not is_suspect(sample.timestamp, received)
        else sample._replace(timestamp=received)
        for sample in samples
    ]


def default_unit(measurand: str) -> str:
    return "Wh" if measurand.startswith("Energy") else ""


class SessionFigures(NamedTuple):
    """What reports of a transaction change of its session: ChargingSession's fields."""

    state: str
    started_at: datetime
    stopped_at: datetime | None = None
    evse_id: int = 0
    connector_id: int = 0
    id_tag: str = ""
    id_token_id: int | None = None
    auth_status: str = ""
    charging_state: str = ""
    remote_start_id: int | None = None
    reservation_id: int | None = None
    timestamp_suspect: bool = False
    meter_start_wh: Decimal | None = None
    meter_last_wh: Decimal | None = None
    meter_stop_wh: Decimal | None = None
    power_w: Decimal | None = None
    energy_wh: Decimal = Decimal(0)
    stop_reason: str = ""
    closed_by_server: bool = False

    @classmethod
    def of(cls, session) -> SessionFigures:
        return cls._make(_read_figures(session))

    def changed(self, before: SessionFigures) -> list[str]:
        return [name for name, new, old in zip(FIGURES, self, before, strict=True) if new != old]


FIGURES = SessionFigures._fields
_read_figures = operator.attrgetter(*FIGURES)


@dataclass(frozen=True, slots=True)
class TransactionReport:
    """One report of a transaction's progress (a 2.0.1 TransactionEvent), in domain terms.
    `id_token_id` and `auth_status` are the tenant's verdict on `id_tag`."""

    timestamp: datetime
    ends: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    id_token_id: int | None = None
    auth_status: str = ""
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    samples: tuple[Sample, ...] = ()


def session_opened(report: TransactionReport, *, now: datetime) -> SessionFigures:
    """A session as the first report of its transaction opens it, whichever that is: when
    the report says, or when it arrived if its time is implausible."""
    started = charger_time(report.timestamp, now)
    return SessionFigures(
        state=SessionState.ACTIVE,
        started_at=started.at,
        evse_id=report.evse_id or 0,
        connector_id=report.connector_id or (1 if report.evse_id else 0),
        timestamp_suspect=started.suspect,
    )


def session_lost(figures: SessionFigures, *, heard_at: datetime, reason: str) -> SessionFigures:
    """A session its charger came back without, closed as the charger would have closed it:
    when it was last heard of, at the register's last reading. Marked closed by the server,
    so that a stop the charger sends after all still counts (`merge_transaction_report`)."""
    closed = figures._replace(
        state=SessionState.COMPLETED,
        stopped_at=max(heard_at, figures.started_at),
        stop_reason=reason,
        meter_stop_wh=figures.meter_last_wh,
        power_w=None,
        closed_by_server=True,
    )
    return closed._replace(energy_wh=session_energy(closed))


def session_energy(session) -> Decimal:
    """Energy delivered: the last (or stop) register reading minus the first, never negative;
    what was recorded before when the readings are missing. `session` is a ChargingSession
    or its SessionFigures."""
    end = session.meter_stop_wh if session.meter_stop_wh is not None else session.meter_last_wh
    if end is None or session.meter_start_wh is None:
        return session.energy_wh
    return max(end - session.meter_start_wh, Decimal(0))


def follow_register(figures: SessionFigures, samples: Iterable[Sample]) -> SessionFigures:
    """Track a session's meter from samples that may arrive out of order (2.0.1 events): the
    session starts at its lowest register reading and has reached its highest; an active
    session's power is its last power sample's."""
    readings = []
    power = figures.power_w
    for sample in samples:
        if sample.phase:
            continue
        value = sample.base_value
        if value is None:
            continue
        if sample.measurand == ENERGY and sample.location in OUTLET:
            readings.append((sample.timestamp, value))
        elif sample.measurand == POWER and figures.state == SessionState.ACTIVE:
            power = value
    if not readings:
        return figures._replace(power_w=power)
    first, last = min(readings)[1], max(readings)[1]
    start, reached = figures.meter_start_wh, figures.meter_last_wh
    return figures._replace(
        power_w=power,
        meter_start_wh=first if start is None or first < start else start,
        meter_last_wh=last if reached is None or last > reached else reached,
    )


def follow_meter(figures: SessionFigures, samples: list[Sample]) -> SessionFigures:
    """The live figures of a running session from a meter reading (1.6 MeterValues and the
    samples of a stop): the register only moves up, power is the newest sample's, energy
    follows while the session is active."""
    if not samples:
        return figures
    latest = max(sample.timestamp for sample in samples)
    last, power = figures.meter_last_wh, figures.power_w
    for sample in samples:
        if sample.phase or sample.location not in OUTLET:
            continue
        value = sample.base_value
        if value is None:
            continue
        if sample.measurand == ENERGY and (last is None or value > last):
            last = value
        elif sample.measurand == POWER and sample.timestamp == latest:
            if figures.state == SessionState.ACTIVE:
                power = value
    updated = figures._replace(meter_last_wh=last, power_w=power)
    if last != figures.meter_last_wh and figures.state == SessionState.ACTIVE:
        updated = updated._replace(energy_wh=session_energy(updated))
    return updated


def merge_transaction_report(
    figures: SessionFigures, report: TransactionReport, *, now: datetime
) -> SessionFigures:
    """A session's figures after one more report of its transaction, whatever the order the
    reports arrive in (a queued Ended may come before its Started after an outage).

    The session began at its earliest report; the first EVSE and id token named stay; the
    register is followed (`follow_register`); the first Ended report closes it at the
    register's last reading, and a later one only moves its end to the latest. A report's
    implausible time counts as its receipt time `now` (`charger_time`) and flags the session.
    """
    sent = charger_time(report.timestamp, now)
    report = replace(report, timestamp=sent.at)
    if figures.closed_by_server:
        # Closed by the server as lost (`session_lost`): the charger's own word comes first.
        figures = figures._replace(
            state=SessionState.ACTIVE, stopped_at=None, stop_reason="", closed_by_server=False
        )._replace(meter_stop_wh=None)
    changes: dict = {}
    if report.timestamp < figures.started_at:
        # An earlier event delivered late: the session began when it says.
        changes["started_at"] = report.timestamp
    if report.evse_id and not figures.evse_id:
        changes["evse_id"] = report.evse_id
        changes["connector_id"] = report.connector_id or 1
    if report.id_tag and not figures.id_tag:
        changes["id_tag"] = report.id_tag
        changes["id_token_id"] = report.id_token_id
        changes["auth_status"] = report.auth_status
    if report.charging_state:
        changes["charging_state"] = report.charging_state
    if report.remote_start_id is not None:
        changes["remote_start_id"] = report.remote_start_id
    if report.reservation_id is not None:
        changes["reservation_id"] = report.reservation_id
    if not figures.timestamp_suspect and sent.suspect:
        changes["timestamp_suspect"] = True
    merged = figures._replace(**changes)
    if report.samples:
        merged = follow_register(merged, report.samples)
    if report.ends and merged.state != SessionState.COMPLETED:
        merged = merged._replace(
            state=SessionState.COMPLETED,
            stopped_at=report.timestamp,
            stop_reason=report.stopped_reason or "Local",
            meter_stop_wh=merged.meter_last_wh,
            power_w=None,
        )
    elif report.ends and merged.stopped_at is not None and report.timestamp > merged.stopped_at:
        merged = merged._replace(stopped_at=report.timestamp)
    elif (
        merged.state == SessionState.COMPLETED
        and merged.meter_last_wh is not None
        and (merged.meter_stop_wh is None or merged.meter_last_wh > merged.meter_stop_wh)
    ):
        # A report the charger had queued arrives after its Ended (an offline end, gaps in
        # the sequence numbers): the register only grows, so its reading was reached by the
        # end too, and the figures follow it rather than staying closed at what came first.
        merged = merged._replace(meter_stop_wh=merged.meter_last_wh)
    return merged._replace(energy_wh=session_energy(merged))


def missing_sequence_numbers(received: Iterable[int]) -> list[int]:
    """The sequence numbers of a transaction's reports not received yet, below the highest
    received (a transaction's reports are numbered from 0): the reports the charger may still
    hold in its queue."""
    seen = set(received)
    return [number for number in range(max(seen, default=0)) if number not in seen]
