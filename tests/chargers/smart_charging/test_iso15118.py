"""ISO 15118 EVs over OCPP 2.0.1 (K15 to K17), with a real charger on a real socket: the EV's
needs become its session's and are answered with a limit for its transaction at a managed site;
its chosen schedule is held against that limit, and one beyond it is refused and renegotiated."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from ocpp.v201 import call

from chargers.commands import asend_command
from chargers.models import Charger, ChargerEvent, Command, CommandStatus, EventKind
from chargers.ocpp import builders
from chargers.smart_charging import services
from chargers.smart_charging.models import (
    EvChargingNeeds,
    EvChargingSchedule,
    NeedsAnswer,
    NeedsSource,
    ProfilesReport,
    SessionNeeds,
)
from cpms.tenancy import scoping
from tests.aio import eventually, in_a
from tests.chargers.ocpp.clients import exchange, raw_socket
from tests.chargers.ocpp.clients201 import connected201, new_transaction_id, now

pytestmark = pytest.mark.django_db(transaction=True)

DEPARTURE = datetime(2030, 1, 1, 17, 30, tzinfo=UTC)


def needs(evse_id=1, max_current=16, energy=30000):
    return call.NotifyEVChargingNeeds(
        evse_id=evse_id,
        max_schedule_tuples=10,
        charging_needs={
            "requested_energy_transfer": "AC_three_phase",
            "departure_time": DEPARTURE.isoformat(),
            "ac_charging_parameters": {
                "energy_amount": energy,
                "ev_min_current": 6,
                "ev_max_current": max_current,
                "ev_max_voltage": 400,
            },
        },
    )


@pytest.fixture
def managed(tenant_a, site_a):
    """Mall A, load-managed at 32 A per phase."""
    with scoping.scope(tenant_a):
        services.site_electrical_set(site=site_a, grid_limit_a=Decimal("32"))
    return site_a


@pytest.fixture
def charger(make_charger, tenant_a, site_a):
    """CP-1 at Mall A."""
    return make_charger(tenant_a, site=site_a)


@sync_to_async
def recompute(site):
    with scoping.scope(site.tenant):
        return services.site_recompute(site_id=site.pk, trigger="test")


def tx_profiles(cp, transaction_id):
    """The session limits (TxProfile) the charger received for a transaction, in order."""
    return [
        payload
        for action, payload in cp.received
        if action == "SetChargingProfile"
        and payload["charging_profile"]["charging_profile_purpose"] == "TxProfile"
        and payload["charging_profile"].get("transaction_id") == transaction_id
    ]


async def nth_tx_profile(cp, transaction_id, n):
    async def arrived():
        found = tx_profiles(cp, transaction_id)
        return found[n - 1] if len(found) >= n else None

    return await eventually(arrived, what=f"TxProfile #{n} for {transaction_id}")


def limit_of(profile) -> float:
    return profile["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0][
        "limit"
    ]


def schedule_of(profile, factor=1.0):
    """The schedule of a received profile, as the EV would choose it (times `factor`)."""
    schedule = dict(profile["charging_profile"]["charging_schedule"][0])
    schedule["charging_schedule_period"] = [
        {**p, "limit": round(p["limit"] * factor, 1)} for p in schedule["charging_schedule_period"]
    ]
    return schedule


async def charging(cp) -> str:
    await cp.boot()
    transaction_id = new_transaction_id()
    await cp.tx("Started", 0, transaction_id, trigger="CablePluggedIn")
    return transaction_id


async def test_needs_at_a_managed_site_are_accepted_kept_and_answered_with_a_session_limit(
    command_server, managed, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        reply = await cp.call(needs(max_current=16))
        assert reply.status == "Accepted"

        kept = await in_a(tenant_a, lambda: SessionNeeds.objects.select_related("session").get())
        assert kept.session.transaction_id == transaction_id
        assert (kept.source, kept.departure_at, kept.energy_needed_wh) == (
            NeedsSource.EV,
            DEPARTURE,
            30000,
        )
        assert (kept.min_current_a, kept.max_current_a) == (Decimal("6.0"), Decimal("16.0"))
        assert kept.max_schedule_tuples == 10

        # The control loop's next run sends the transaction its limit, within the EV's 16 A
        # although the site could give it 32 A.
        plan = await recompute(managed)
        profile = await nth_tx_profile(cp, transaction_id, 1)
    assert profile["evse_id"] == 1 and limit_of(profile) == 16.0
    assert plan.allocations[0]["reason"] == "at the EV's maximum 16 A"


async def test_needs_stated_again_get_the_limit_again_though_it_did_not_change(
    command_server, managed, charger, tenant_a
):
    # K17, K16.FR.12: an Accepted promises a SetChargingProfile, changed or not.
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        assert (await cp.call(needs())).status == "Accepted"
        await recompute(managed)
        first = await nth_tx_profile(cp, transaction_id, 1)
        assert (await cp.call(needs())).status == "Accepted"
        await recompute(managed)
        second = await nth_tx_profile(cp, transaction_id, 2)
    assert limit_of(first) == limit_of(second) == 16.0


async def test_needs_where_the_site_is_not_managed_are_rejected_but_kept(
    command_server, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        reply = await cp.call(needs())
    assert reply.status == "Rejected"
    said = await in_a(tenant_a, lambda: EvChargingNeeds.objects.select_related("session").get())
    assert (said.answer, said.session.transaction_id) == (NeedsAnswer.NONE, transaction_id)
    kept = await in_a(tenant_a, lambda: SessionNeeds.objects.get())
    assert (kept.source, kept.energy_needed_wh) == (NeedsSource.EV, 30000)


async def test_needs_before_their_transaction_are_processing_and_become_its_needs(
    command_server, managed, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        await cp.boot()
        reply = await cp.call(needs(max_current=20))
        assert reply.status == "Processing"
        waiting = await in_a(tenant_a, lambda: EvChargingNeeds.objects.get())
        assert waiting.session_id is None
        transaction_id = new_transaction_id()
        await cp.tx("Started", 0, transaction_id, trigger="ChargingStateChanged")
    kept = await in_a(tenant_a, lambda: SessionNeeds.objects.select_related("session").get())
    assert (kept.session.transaction_id, kept.source, kept.max_current_a) == (
        transaction_id,
        NeedsSource.EV,
        Decimal("20.0"),
    )


async def test_a_schedule_within_the_limit_is_accepted_and_one_beyond_it_renegotiated(
    command_server, managed, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        await cp.call(needs(max_current=16))
        await recompute(managed)
        limit = await nth_tx_profile(cp, transaction_id, 1)

        within = call.NotifyEVChargingSchedule(
            time_base=now(), evse_id=1, charging_schedule=schedule_of(limit)
        )
        assert (await cp.call(within)).status == "Accepted"
        # Nothing changed for the session: once its limit is held, the next run sends only
        # the charger's fallback, and the one after nothing.
        await eventually(
            lambda: in_a(tenant_a, lambda: answered_limits() == 1), what="the answer read"
        )
        assert (await recompute(managed)).commands_sent == 1
        assert len(tx_profiles(cp, transaction_id)) == 1

        beyond = call.NotifyEVChargingSchedule(
            time_base=now(), evse_id=1, charging_schedule=schedule_of(limit, factor=2)
        )
        refused = await cp.call(beyond)
        assert refused.status == "Rejected"
        assert "32 A (32.0 A) is over the 16.0 A sent" in refused.status_info["additional_info"]
        # K16: the CSMS sends its limit again.
        await recompute(managed)
        again = await nth_tx_profile(cp, transaction_id, 2)
    assert limit_of(again) == 16.0
    kept = await in_a(
        tenant_a, lambda: list(EvChargingSchedule.objects.values_list("within_limits", flat=True))
    )
    assert kept == [False, True]  # newest first


def profiles(cp) -> list[tuple[str, str | None]]:
    """Every profile the charger received, in order: (purpose, transaction id)."""
    return [
        (
            payload["charging_profile"]["charging_profile_purpose"],
            payload["charging_profile"].get("transaction_id"),
        )
        for action, payload in cp.received
        if action == "SetChargingProfile"
    ]


def answered_limits() -> int:
    return Command.objects.filter(
        action="SetChargingProfile", status=CommandStatus.ANSWERED
    ).count()


async def test_the_transactions_limit_is_the_first_profile_and_a_renegotiations_the_next(
    command_server, managed, charger, tenant_a
):
    # OCPP 2.0.1 TC_K_55: after the EV's needs the charger gets the TxProfile for its
    # transaction; an EV schedule beyond it is refused and the next profile is the TxProfile
    # again. The fallback (TxDefaultProfile) waits until the session holds its limit.
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        assert (await cp.call(needs(max_current=16))).status == "Accepted"
        await recompute(managed)
        limit = await nth_tx_profile(cp, transaction_id, 1)
        beyond = call.NotifyEVChargingSchedule(
            time_base=now(), evse_id=1, charging_schedule=schedule_of(limit, factor=2)
        )
        assert (await cp.call(beyond)).status == "Rejected"
        await recompute(managed)
        await nth_tx_profile(cp, transaction_id, 2)
        assert profiles(cp) == [("TxProfile", transaction_id)] * 2

        await eventually(
            lambda: in_a(tenant_a, lambda: answered_limits() == 2), what="both answers read"
        )
        await recompute(managed)

        async def fallback():
            return len(profiles(cp)) == 3

        await eventually(fallback, what="the fallback")
    assert profiles(cp)[2] == ("TxDefaultProfile", None)


async def test_beyond_an_operators_limit_at_an_unmanaged_site_that_limit_is_sent_again(
    command_server, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        charger = await in_a(tenant_a, lambda: Charger.objects.get())  # now known as 2.0.1
        request = builders.charging_limit(
            charger,
            kind="session",
            evse_id=1,
            profile_id=2,
            starts=datetime.now(UTC) - timedelta(seconds=5),
            periods=[(0, 10.0)],
            transaction_id=transaction_id,
        )
        # Awaited here: a thread blocked on the answer would hold the database thread the
        # in-process server's consumer needs to record it (SQLite, the embedded defaults).
        await asend_command(charger, request.action, request.payload)
        limit = await nth_tx_profile(cp, transaction_id, 1)
        beyond = call.NotifyEVChargingSchedule(
            time_base=now(), evse_id=1, charging_schedule=schedule_of(limit, factor=2)
        )
        assert (await cp.call(beyond)).status == "Rejected"
        again = await nth_tx_profile(cp, transaction_id, 2)
    assert again == limit


async def test_the_profiles_a_charger_lists_in_two_reports_are_one_report(
    command_server, managed, charger, tenant_a
):
    async with connected201(command_server, "tenant-a", "CP-1") as cp:
        transaction_id = await charging(cp)
        await recompute(managed)
        session_limit = await nth_tx_profile(cp, transaction_id, 1)
        charger = await in_a(tenant_a, lambda: Charger.objects.get())
        asked = builders.charging_profiles(charger)
        await asend_command(charger, asked.action, asked.payload)
        request_id = asked.payload["requestId"]

        first = call.ReportChargingProfiles(
            request_id=request_id,
            charging_limit_source="CSO",
            evse_id=1,
            charging_profile=[session_limit["charging_profile"]],
            tbc=True,
        )
        await cp.call(first)
        partly = await in_a(tenant_a, lambda: ProfilesReport.objects.get())
        assert (partly.complete, partly.parts) == (False, 1)

        last = call.ReportChargingProfiles(
            request_id=request_id,
            charging_limit_source="EMS",
            evse_id=0,
            charging_profile=[
                {
                    "id": 9000,
                    "stack_level": 0,
                    "charging_profile_purpose": "ChargingStationExternalConstraints",
                    "charging_profile_kind": "Absolute",
                    "charging_schedule": [
                        {
                            "id": 1,
                            "charging_rate_unit": "W",
                            "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}],
                        }
                    ],
                }
            ],
        )
        await cp.call(last)
    report = await in_a(tenant_a, lambda: ProfilesReport.objects.select_related("command").get())
    assert (report.complete, report.parts, report.command.action) == (
        True,
        2,
        "GetChargingProfiles",
    )
    assert [(p["evse_id"], p["kind"], p["source"]) for p in report.profiles] == [
        (1, "session", "CSO"),
        (0, "", "EMS"),
    ]


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        (
            "NotifyEVChargingNeeds",
            {"evseId": 0, "chargingNeeds": {"requestedEnergyTransfer": "DC"}},
            "PropertyConstraintViolation",
        ),
        ("NotifyEVChargingNeeds", {"evseId": 1}, "OccurrenceConstraintViolation"),
        (
            "NotifyEVChargingNeeds",
            {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "Hydrogen"}},
            "PropertyConstraintViolation",
        ),
        (
            "NotifyEVChargingSchedule",
            {
                "timeBase": "2026-12-06T08:00:00Z",
                "evseId": 1,
                "chargingSchedule": {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 600, "limit": 7000.0},
                        {"startPeriod": 0, "limit": 7000.0},
                    ],
                },
            },
            "PropertyConstraintViolation",
        ),
        (
            "ReportChargingProfiles",
            {
                "requestId": 1,
                "chargingLimitSource": "CSO",
                "evseId": 1,
                "tbc": "no",
                "chargingProfile": [
                    {
                        "id": 1,
                        "stackLevel": 0,
                        "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Relative",
                        "chargingSchedule": [
                            {
                                "id": 1,
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                            }
                        ],
                    }
                ],
            },
            "TypeConstraintViolation",
        ),
    ],  # fmt: skip
    ids=["evse 0", "no needs", "unknown transfer", "periods out of order", "tbc not a flag"],
)
async def test_a_bad_message_gets_its_callerror_and_changes_nothing(
    command_server, managed, charger, tenant_a, action, payload, code
):
    async with raw_socket(command_server, "tenant-a", "CP-1", subprotocol="ocpp2.0.1") as ws:
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        assert (await exchange(ws, [2, "b1", "BootNotification", boot]))[0] == 3
        reply = await exchange(ws, [2, "m1", action, payload])
    assert reply[:3] == [4, "m1", code]

    def kept():
        return (
            EvChargingNeeds.objects.count(),
            EvChargingSchedule.objects.count(),
            ProfilesReport.objects.count(),
            SessionNeeds.objects.count(),
            ChargerEvent.objects.filter(
                kind__in=[
                    EventKind.EV_CHARGING_NEEDS,
                    EventKind.EV_CHARGING_SCHEDULE,
                    EventKind.CHARGING_PROFILES_REPORT,
                ]
            ).count(),
        )

    assert await in_a(tenant_a, kept) == (0, 0, 0, 0, 0)
