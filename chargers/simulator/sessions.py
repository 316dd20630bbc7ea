"""The sessions running on a charger, and how they go: a car plugs in, is authorised, charges
with a meter sample every interval, and leaves (or a fault, a reset or the CSMS ends it).

How the transaction is told to the CSMS is the version's: `_begin_transaction`,
`_meter_sample` and `_end_transaction` of Charger16 and Charger201.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from chargers.simulator.events import now_utc
from chargers.simulator.meter import Reading, Vehicle
from chargers.simulator.state import FAULT_CODES, Connector, Session

if TYPE_CHECKING:
    from chargers.simulator.base import SimulatedCharger


class Sessions(Sequence[Session]):
    """The running sessions (a list, oldest connector first) and what starts and ends them."""

    def __init__(self, charger: SimulatedCharger):
        self.charger = charger
        # MeterValueSampleInterval / TxUpdatedInterval: the CSMS can change it at any time.
        self.meter_interval = float(charger.config.meter_interval)
        self._numbers = itertools.count(1)

    def _running(self) -> list[Session]:
        connectors = self.charger.connectors.values()
        return [c.session for c in connectors if c.session and not c.session.stopped]

    def __getitem__(self, index):
        return self._running()[index]

    def __len__(self) -> int:
        return len(self._running())

    def __iter__(self) -> Iterator[Session]:
        # A snapshot: ending the sessions one by one must not skip any.
        return iter(self._running())

    def find(self, connector_id: int | None = None, transaction_id=None) -> Session | None:
        for session in self:
            if connector_id is not None and session.connector_id != connector_id:
                continue
            if transaction_id is not None and str(session.transaction_id) != str(transaction_id):
                continue
            return session
        return None

    def free_connector(self, connector_id: int | None, id_tag: str | None) -> Connector | None:
        """The connector a session for id_tag may use (the given one, or the first free)."""
        charger = self.charger
        if charger.reboots.rebooting or charger.closing:
            return None
        if connector_id:
            candidates = [charger.connectors.get(connector_id)]
        else:
            candidates = list(charger.connectors.values())
        for connector in candidates:
            if connector is None:
                continue
            if connector.state == "Available":
                return connector
            reservation = connector.reservation
            if connector.state == "Reserved" and reservation and reservation.id_tag == id_tag:
                return connector
        return None

    def charging(self, connector: Connector) -> Session | None:
        """The connector's session once its transaction began, else None."""
        session = connector.session
        if session is None or session.stopped or connector.phase == "Preparing":
            return None
        return session

    def _length(self) -> float | None:
        config = self.charger.config
        base = config.session_duration
        if base is None:
            base = config.session_interval
        return base * self.charger.rng.uniform(0.8, 1.2) if base and base > 0 else None

    def read(self, connector: Connector) -> Reading:
        now = self.charger.now()
        return connector.meter.reading(now, self.charger.limits.cap_w(connector.id, now))

    async def start(
        self,
        id_tag: str | None = None,
        connector_id: int | None = None,
        *,
        remote_start_id: int | None = None,
        authorize: bool = True,
        tag_type: str = "ISO14443",
        iso15118: bool = False,
    ) -> Session | None:
        """Plug in a car and start charging: Authorize (when online), then the transaction.

        remote_start_id: the CSMS's id of a remote start (2.0.1). authorize: ask the CSMS
        first (remote starts may skip it). An ISO 15118 car (iso15118) also talks to the
        charger: on 2.0.1 the station asks for its contract certificate and reports the car's
        charging needs.

        Returns the session once the CSMS answered the start (or at once when offline), or
        None when no connector is free or the id tag is refused.
        """
        charger = self.charger
        rng, config = charger.rng, charger.config
        id_tag = id_tag or rng.choice(config.id_tags)
        # A Plug & Charge charger's own sessions are its cars' contracts; a remote start is
        # for the token the CSMS named.
        iso15118 = iso15118 or (config.plug_and_charge and remote_start_id is None)
        connector = self.free_connector(connector_id, id_tag)
        if connector is None:
            charger.events.add("session-refused", f"no free connector for {id_tag}")
            return None
        session = Session(
            connector_id=connector.id,
            id_tag=id_tag,
            number=next(self._numbers),
            started_at=now_utc(),
            meter_start_wh=round(connector.meter.register_wh, 1),
            vehicle=Vehicle.random(rng),
            tag_type=tag_type,
            remote_start_id=remote_start_id,
            iso15118=iso15118,
        )
        if connector.reservation is not None:
            session.reservation_id = connector.reservation.id
            charger.connectors.drop_reservation(connector.reservation)
        connector.session, connector.phase = session, "Preparing"
        charger.connectors.report(connector)
        if session.iso15118:
            charger._car_plugged(session)
        if authorize and charger.online:
            result = await charger.outbox.settle(
                charger.outbox.enqueue(
                    "Authorize", lambda: charger._authorize_payload(session), persistent=False
                )
            )
            status = charger._authorization_status(result)
            if session.stopped:  # a reset or stop() came while the CSMS was deciding
                return None
            if status not in (None, "Accepted"):
                connector.session, connector.phase = None, None
                charger.connectors.report(connector)
                charger.events.add("session-refused", f"{id_tag} not authorised: {status}")
                return None
        now = charger.now()
        connector.meter.plug(session.vehicle, now)
        reading = connector.meter.reading(now, charger.limits.cap_w(connector.id, now))
        session.started_at = now_utc()
        session.meter_start_wh = session.last_energy_wh = reading.energy_wh
        session.duration = self._length()
        if config.fault_rate and rng.random() < config.fault_rate:
            span = session.duration or 3 * max(self.meter_interval, 1.0)
            session.fault_after = span * rng.uniform(0.2, 0.8)
        connector.phase = "Charging"
        session.begun = True
        started = charger._begin_transaction(session, reading)
        charger.connectors.report(connector)
        if session.iso15118:
            charger._car_charging(session)
        charger.stats.add("sessions_started")
        session.task = charger.spawn(self._charge(session))
        await charger.outbox.settle(started)
        vehicle = session.vehicle
        charger.events.add(
            "session-started",
            f"connector {connector.id}, tag {id_tag}, transaction "
            f"{session.transaction_id if session.transaction_id is not None else '(queued)'}, "
            f"car {vehicle.capacity_wh / 1000:.0f} kWh at {vehicle.soc_start:.0f} %",
        )
        return session

    async def _charge(self, session: Session) -> None:
        """A session's life: meter samples every interval until it ends or a fault hits."""
        charger = self.charger
        loop = asyncio.get_running_loop()
        begun = loop.time()
        connector = charger.connectors[session.connector_id]
        next_sample = begun + self.meter_interval
        while not session.stopped:
            wake = []
            if self.meter_interval > 0:
                wake.append(next_sample)
            if session.duration is not None:
                wake.append(begun + session.duration)
            if session.fault_after is not None:
                wake.append(begun + session.fault_after)
            if wake:
                await asyncio.sleep(max(0.0, min(wake) - loop.time()))
            else:
                await session.ended.wait()
            if session.stopped:
                return
            now = loop.time()
            if session.fault_after is not None and now >= begun + session.fault_after:
                await charger.connectors.fault(
                    charger.rng.choice(FAULT_CODES),
                    connector.id,
                    clear_after=charger.config.fault_duration,
                )
                return
            if session.duration is not None and now >= begun + session.duration:
                self.finish(session, "EVDisconnected")
                return
            if self.meter_interval > 0 and now >= next_sample:
                next_sample = now + self.meter_interval
                self.sample(connector, "Sample.Periodic")
                full = connector.meter.full
                if full and connector.phase == "Charging":
                    connector.phase = "SuspendedEV"
                    charger.connectors.report(connector)

    def sample(self, connector: Connector, context: str) -> asyncio.Future:
        """Take a meter reading and queue it (in the transaction, if one runs)."""
        reading = self.read(connector)
        if connector.session is not None:
            connector.session.last_energy_wh = reading.energy_wh
        return self.charger._meter_sample(connector, reading, context)

    async def stop(self, reason: str = "Local", connector_id: int | None = None):
        """End the session on connector_id (or the first one); returns it, or None."""
        session = self.find(connector_id)
        if session is None:
            return None
        await self.charger.outbox.settle(self.finish(session, reason))
        return session

    def finish(self, session: Session, reason: str) -> asyncio.Future | None:
        """End the session now; the future is the answer to its last message."""
        charger = self.charger
        if session.stopped:
            return None
        session.stopped, session.stop_reason = True, reason
        if session.task is not None and session.task is not asyncio.current_task():
            session.task.cancel()
        connector = charger.connectors[session.connector_id]
        if not session.begun:
            # Still authorising: no transaction to end, the car just leaves.
            connector.session, connector.phase = None, None
            charger.connectors.report(connector)
            session.ended.set()
            return None
        reading = self.read(connector)
        connector.meter.unplug(charger.now())
        session.meter_stop_wh = session.last_energy_wh = reading.energy_wh
        delivered = charger._end_transaction(session, reading, reason)
        charger.limits.end_transaction(connector.id)
        charger.stats.add("sessions_stopped")
        charger.stats.energy_wh += session.energy_wh
        connector.phase = "Finishing"
        charger.connectors.report(connector)
        connector.session, connector.phase = None, None
        if connector.pending_inoperative:
            connector.operative, connector.pending_inoperative = False, False
        charger.connectors.report(connector)
        session.ended.set()
        seconds = (now_utc() - session.started_at).total_seconds()
        took = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
        charger.events.add(
            "session-stopped",
            f"connector {connector.id}, transaction {session.transaction_id}: "
            f"{session.energy_wh / 1000:.3f} kWh in {took}, reason {reason}",
        )
        charger.reboots.session_ended()
        charger.notify()
        return delivered

    def finish_all(self, reason: str) -> None:
        for session in self:
            self.finish(session, reason)

    async def arrivals(self, connector: Connector) -> None:
        """Cars arrive on a cadence: an idle gap, a session, an idle gap, ..."""
        charger = self.charger
        interval = charger.config.session_interval
        await charger.wait_until(lambda: charger.registration.accepted)
        # Start at a random point of the cycle, so a fleet does not charge in lockstep.
        await asyncio.sleep(charger.rng.uniform(0, interval))
        while True:
            if connector.state == "Available" and not charger.reboots.rebooting:
                share = charger.config.iso15118_share
                session = await self.start(
                    connector_id=connector.id,
                    iso15118=bool(share) and charger.rng.random() < share,
                )
                if session is not None:
                    await session.ended.wait()
            await asyncio.sleep(interval * charger.rng.uniform(0.8, 1.2))
