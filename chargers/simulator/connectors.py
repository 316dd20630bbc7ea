"""The charger's connectors (EVSEs on 2.0.1) by id, and what happens to them besides charging:
the statuses the CSMS is told, availability, faults and reservations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chargers.simulator.events import now_utc
from chargers.simulator.meter import Meter
from chargers.simulator.state import Connector, Reservation

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger


# A meter's register only ever rises, across restarts too: a simulated charger started again
# (a demo restarted) reads on from where a charger of its kind would be by now, whatever its seed.
REGISTER_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WH_PER_SECOND = 2.0


def wall_clock_wh(now: datetime | None = None) -> float:
    return max((now or now_utc()) - REGISTER_EPOCH, timedelta(0)).total_seconds() * WH_PER_SECOND


class Connectors(Mapping[int, Connector]):
    def __init__(self, charger: SimulatedCharger):
        config, rng = charger.config, charger.rng
        self.charger = charger
        self._by_id = {
            n: Connector(
                n,
                Meter(
                    rng,
                    max_power_w=config.max_power_w,
                    register_wh=float(rng.randrange(100_000, 5_000_000)) + wall_clock_wh(),
                ),
            )
            for n in range(1, config.connectors + 1)
        }
        # ChangeAvailability of the whole charger (1.6 connector 0, 2.0.1 without an EVSE).
        self.station_operative = True

    def __getitem__(self, connector_id: int) -> Connector:
        return self._by_id[connector_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    # --- statuses ----------------------------------------------------------------------

    def report(self, connector: Connector, *, force: bool = False) -> None:
        """Tell the CSMS the connector's status, unless it knows it already (or force)."""
        charger = self.charger
        status = charger._status_name(connector)
        key = (status, connector.error_code)
        if key == connector.reported and not force:
            return
        connector.reported = key
        payload = charger._status_payload(connector, status)
        charger.outbox.enqueue("StatusNotification", lambda: payload, persistent=False)

    def report_all(self) -> None:
        self.charger._report_station(force=True)
        for connector in self.values():
            self.report(connector, force=True)

    def forget_after_reboot(self) -> None:
        """A reboot clears faults, unplugs cars and ends reservations; statuses are resent."""
        for connector in self.values():
            connector.error_code = None
            connector.phase = None
            connector.reported = None
            if connector.reservation is not None:
                self.drop_reservation(connector.reservation)

    # --- availability --------------------------------------------------------------------

    def change_availability(self, evse_id: int, operative: bool, reply):
        """ChangeAvailability of the charger (evse_id 0) or one connector; the statuses that
        change are reported once the answer is out."""
        if evse_id == 0:
            targets = list(self.values())
        elif evse_id in self:
            targets = [self[evse_id]]
        else:
            return reply(status="Rejected")
        status = self._switch(targets, operative)
        if evse_id == 0:
            self.station_operative = operative

        async def report():
            if evse_id == 0:
                self.charger._report_station()
            for connector in targets:
                self.report(connector)

        self.charger.commands.after_reply(report)
        return reply(status=status)

    def _switch(self, targets: list[Connector], operative: bool) -> str:
        scheduled = False
        for connector in targets:
            if operative:
                connector.operative, connector.pending_inoperative = True, False
            elif connector.session is not None:
                # A running session finishes first; then the connector becomes Unavailable.
                connector.pending_inoperative = scheduled = True
            else:
                connector.operative = False
                if connector.reservation is not None:
                    # A connector taken out of use cannot honour its reservation.
                    self.end_reservation(connector, "Removed")
        return "Scheduled" if scheduled else "Accepted"

    # --- faults --------------------------------------------------------------------------

    async def fault(self, error_code: str, connector_id: int, *, clear_after=None) -> None:
        charger = self.charger
        connector = self[connector_id]
        connector.error_code = error_code
        charger.stats.add("faults")
        charger.events.add("fault", f"connector {connector_id}: {error_code}")
        self.report(connector)
        charger._fault_notice(connector, error_code, True)
        if connector.session is not None:
            charger.sessions.finish(connector.session, charger._fault_stop_reason(error_code))
        if clear_after:
            asyncio.get_running_loop().call_later(
                clear_after, lambda: charger.spawn(self.clear_fault(connector_id))
            )

    async def clear_fault(self, connector_id: int) -> None:
        connector = self[connector_id]
        if connector.error_code is None:
            return
        connector.error_code = None
        self.charger.events.add("fault-cleared", f"connector {connector_id}")
        self.report(connector)
        self.charger._fault_notice(connector, "NoError", False)

    # --- reservations --------------------------------------------------------------------

    def reserve(
        self, reservation_id: int, connector_id: int | None, id_tag: str, expires_at: datetime
    ) -> tuple[str, Connector | None]:
        for held in self.values():
            if held.reservation and held.reservation.id == reservation_id:
                self.drop_reservation(held.reservation)
        if connector_id:
            connector = self.get(connector_id)
            if connector is None:
                return "Rejected", None
        else:
            free = [c for c in self.values() if c.state == "Available"]
            connector = free[0] if free else next(iter(self.values()))
        state = connector.state
        if state in ("Faulted", "Unavailable"):
            return state, None
        if state != "Available":
            return "Occupied", None
        delay = (expires_at - now_utc()).total_seconds()
        if delay <= 0:
            return "Rejected", None
        reservation = Reservation(reservation_id, connector.id, id_tag, expires_at)
        reservation.timer = asyncio.get_running_loop().call_later(delay, self.expire_reservations)
        connector.reservation = reservation
        return "Accepted", connector

    def drop_reservation(self, reservation: Reservation) -> None:
        if reservation.timer is not None:
            reservation.timer.cancel()
        connector = self[reservation.connector_id]
        if connector.reservation is reservation:
            connector.reservation = None

    def cancel_reservation(self, reservation_id: int) -> Connector | None:
        """CancelReservation: the connector that held it, or None if none did."""
        for connector in self.values():
            if connector.reservation and connector.reservation.id == reservation_id:
                self.drop_reservation(connector.reservation)
                return connector
        return None

    def expire_reservations(self, now: datetime | None = None) -> int:
        """End every reservation whose expiry has come by `now` (the charger's clock when not
        given), as the charger does at each one's expiry; returns how many ended."""
        now = now or now_utc()
        expired = 0
        for connector in self.values():
            reservation = connector.reservation
            if reservation is not None and reservation.expires_at <= now:
                self.end_reservation(connector, "Expired")
                self.report(connector)
                expired += 1
        return expired

    def end_reservation(self, connector: Connector, why: str) -> None:
        """The charger ends a reservation itself (it expired, or its connector can no longer
        be used) and says so (2.0.1: ReservationStatusUpdate); the caller reports the status."""
        reservation = connector.reservation
        if reservation is None:
            return
        self.drop_reservation(reservation)
        self.charger.events.add("reservation", f"{reservation.id} {why.lower()}")
        self.charger._reservation_ended(reservation, why)
