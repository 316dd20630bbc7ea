"""Smart charging on an OCPP 2.0.1 station: the CSMS's charging profiles, ISO 15118 cars that
state their needs and negotiate their schedule, and a local energy manager that caps the
station and tells the CSMS (NotifyChargingLimit / ClearedChargingLimit).

Part of Charger201; the limits themselves are computed by limits.py.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from datetime import timedelta

from ocpp.v201 import call, call_result

from chargers.simulator.contract import SCHEMA_VERSION, Contract
from chargers.simulator.events import iso, now_utc
from chargers.simulator.keystore import DeviceModel
from chargers.simulator.limits import parse_profile
from chargers.simulator.meter import NOMINAL_VOLTAGE, PHASES
from chargers.simulator.parts import ChargerPart
from chargers.simulator.state import Session

# The contract (eMAID) certificate an ISO 15118 car presents, as OCSP request data.
CONTRACT_OCSP = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "0" * 64,
    "issuer_key_hash": "1" * 64,
    "serial_number": "5EC0DE",
    "responder_url": "http://ocsp.example/",
}
# The profile id of a local energy manager's cap: this plus the EVSE id (0: the station).
EXTERNAL_PROFILE_ID = 9000


class SmartCharging201(ChargerPart):
    store: DeviceModel
    contract: Contract | None
    # --- ISO 15118 cars ---------------------------------------------------------------------

    def _car_plugged(self, session: Session) -> None:
        if self.contract is not None and session.remote_start_id is None:
            self._plug_and_charge(session)
            return
        # Plug & Charge: the car asks for its contract certificate through the station, and
        # the station checks the contract's revocation status before authorising it.
        exi = base64.b64encode(f"CertificateInstallationReq {session.id_tag}".encode()).decode()
        install = call.Get15118EVCertificate(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
            action="Install",
            exi_request=exi,
        )
        status = call.GetCertificateStatus(ocsp_request_data=CONTRACT_OCSP)
        self.outbox.put(install)
        self.outbox.put(status)

    def _plug_and_charge(self, session: Session) -> None:
        """The car's contract: installed through the CSMS once (Get15118EVCertificate with
        the CSMS's documented local envelope), its status checked with real OCSP request data
        (GetCertificateStatus); Authorize then carries the chain and its hash data, and the
        session's id token is the contract's eMAID."""
        contract = self.contract
        if contract is None:
            return
        session.id_tag, session.tag_type = contract.emaid, "eMAID"
        if not contract.installed:
            self.outbox.enqueue(
                "Get15118EVCertificate",
                lambda: call.Get15118EVCertificate(
                    iso15118_schema_version=SCHEMA_VERSION,
                    action="Install",
                    exi_request=contract.install_request(),
                ),
                persistent=False,
                on_result=self._contract_answer,
            )
        self.outbox.enqueue(
            "GetCertificateStatus",
            lambda: (
                call.GetCertificateStatus(ocsp_request_data=contract.ocsp_data()[0])
                if contract.installed
                else None
            ),
            persistent=False,
            on_result=self._contract_status,
        )

    def _contract_status(self, result) -> None:
        if self.contract is not None:
            self.events.add("contract-status", f"{self.contract.emaid}: OCSP {result.status}")

    def _contract_answer(self, result) -> None:
        contract = self.contract
        if contract is None:
            return
        if result.status != "Accepted":
            info = result.status_info or {}
            self.events.add("contract-failed", f"{contract.emaid}: {info.get('additional_info')}")
            return
        problem = contract.accept(result.exi_response)
        what = problem or f"installed, valid until {contract.chain[0].not_valid_after_utc:%Y-%m-%d}"
        self.events.add("contract-installed" if not problem else "contract-failed", what)

    def _car_charging(self, session: Session) -> None:
        vehicle = session.vehicle
        needed = vehicle.capacity_wh * (100 - vehicle.soc_start) / 100
        max_current = vehicle.max_power_w / (NOMINAL_VOLTAGE * PHASES)
        needs = {
            "requested_energy_transfer": "AC_three_phase",
            "ac_charging_parameters": {
                "energy_amount": round(needed),
                "ev_min_current": 6,
                "ev_max_current": round(max_current),
                "ev_max_voltage": 400,
            },
        }
        if session.duration is not None:
            # The driver leaves when the session is planned to end.
            needs["departure_time"] = iso(session.started_at + timedelta(seconds=session.duration))
        payload = call.NotifyEVChargingNeeds(
            evse_id=session.connector_id, max_schedule_tuples=24, charging_needs=needs
        )
        self.outbox.put(payload)

    async def _ev_schedule(self, evse_id: int) -> None:
        """The car picked its schedule within the limit it was given (ISO 15118 renegotiation)."""
        connector = self.connectors[evse_id]
        session = connector.session
        if session is None or not session.iso15118:
            return
        cap = self.limits.cap_w(evse_id, self.now())
        limit = min(
            session.vehicle.max_power_w, cap if cap is not None else self.config.max_power_w
        )
        payload = call.NotifyEVChargingSchedule(
            time_base=iso(),
            evse_id=evse_id,
            charging_schedule={
                "id": session.number,
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": round(limit, 1)}],
            },
        )
        await self.outbox.send(payload)

    def _incident_kinds(self):
        # A local energy manager caps the station for a while, then lifts the cap.
        limited = any(p.source != "CSO" for p in self.limits.profiles)
        cap = round(self.config.max_power_w * self.rng.choice((0.25, 0.5, 0.75)))
        local = (lambda: self.limit_locally(None)) if limited else (lambda: self.limit_locally(cap))
        return [*super()._incident_kinds(), local]

    # --- local limits ---------------------------------------------------------------------

    async def limit_locally(self, limit_w: float | None, evse_id: int = 0, source: str = "EMS"):
        """A local energy manager caps the power (None lifts its cap); the CSMS is told.

        evse_id 0 means the whole station.
        """
        if limit_w is None:
            self.limits.clear(profile_id=EXTERNAL_PROFILE_ID + evse_id)
            self.events.add("limit", f"{source} limit on EVSE {evse_id} lifted")
            payload = call.ClearedChargingLimit(
                charging_limit_source=source, evse_id=evse_id or None
            )
        else:
            schedule = {
                "id": EXTERNAL_PROFILE_ID + evse_id,
                "charging_rate_unit": "W",
                "start_schedule": iso(),
                "charging_schedule_period": [{"start_period": 0, "limit": float(limit_w)}],
            }
            profile = {
                "id": EXTERNAL_PROFILE_ID + evse_id,
                "stack_level": 0,
                "charging_profile_purpose": "ChargingStationExternalConstraints",
                "charging_profile_kind": "Absolute",
                "charging_schedule": [schedule],
            }
            wall = now_utc()
            self.limits.install(
                parse_profile(profile, evse_id, now=self.now(), wall=wall, source=source)
            )
            self.events.add("limit", f"{source} caps EVSE {evse_id} at {limit_w:g} W")
            payload = call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": source, "is_grid_critical": False},
                charging_schedule=[schedule],
                evse_id=evse_id or None,
            )
        return await self.outbox.send(payload)

    # --- commands ------------------------------------------------------------------------

    def on_set_charging_profile(self, evse_id, charging_profile, **_):
        purpose = charging_profile.get("charging_profile_purpose")
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            return call_result.SetChargingProfile(status="Rejected")
        if purpose == "TxProfile" and (evse_id == 0 or self.connectors[evse_id].session is None):
            return call_result.SetChargingProfile(status="Rejected")
        self._install_profile(charging_profile, evse_id)
        # An ISO 15118 car renegotiates its schedule within the new limit.
        for n in [evse_id] if evse_id else list(self.connectors):
            if (session := self.connectors[n].session) is not None and session.iso15118:
                self.commands.after_reply(functools.partial(self._ev_schedule, n))
                break
        return call_result.SetChargingProfile(status="Accepted")

    def on_get_charging_profiles(self, request_id, charging_profile, evse_id=None, **_):
        wanted = charging_profile
        ids = wanted.get("charging_profile_id")
        sources = wanted.get("charging_limit_source")
        found = [
            p
            for p in self.limits.profiles
            if p.raw is not None
            and (evse_id is None or p.connector_id == evse_id)
            and (not ids or p.id in ids)
            and (not sources or p.source in sources)
            and wanted.get("charging_profile_purpose") in (None, p.purpose)
            and wanted.get("stack_level") in (None, p.stack_level)
        ]
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        groups: dict[tuple[int, str], list] = {}
        for p in found:
            groups.setdefault((p.connector_id, p.source), []).append(p.raw)

        async def report():
            futures = []
            for index, ((evse, source), profiles) in enumerate(groups.items()):
                payload = call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source=source,
                    evse_id=evse,
                    charging_profile=profiles,
                    tbc=index < len(groups) - 1,
                )
                futures.append(self.outbox.put(payload))
            await asyncio.gather(*(self.outbox.settle(f) for f in futures))

        self.commands.after_reply(report)
        return call_result.GetChargingProfiles(status="Accepted")

    def on_clear_charging_profile(
        self, charging_profile_id=None, charging_profile_criteria=None, **_
    ):
        criteria = charging_profile_criteria or {}
        status = self._clear_profiles(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=criteria.get("charging_profile_purpose"),
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    def on_get_composite_schedule(self, duration, evse_id, charging_rate_unit=None, **_):
        if evse_id != 0 and evse_id not in self.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "W"
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": [
                    {"start_period": 0, "limit": self._composite_limit(evse_id, unit)}
                ],
            },
        )
