"""Reservations over real OCPP: simulated 1.6 and 2.0.1 chargers (chargers/simulator) connected
to the server (served in this process, so that Celery runs eagerly beside it). The charger
accepts, its connector shows Reserved, a session by the token uses the reservation; a
reservation is cancelled, refused on an occupied connector, and ended by the station."""

import asyncio
import contextlib
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chargers.models import Charger, Connector, IdToken
from chargers.reservations.models import Reservation, ReservationStatus
from chargers.reservations.services import reservation_cancel, reservation_create
from cpms.tenancy import scoping
from tests.aio import PATIENCE, eventually
from tests.chargers.simulator.helpers import register, simulated, wait_until_offline
from tests.helpers import eager_tasks

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "04RESERVE01"


@pytest.fixture
def registered(tenant_a):
    with scoping.scope(tenant_a):
        IdToken.objects.create(uid=TAG, label="Reserved driver")
        IdToken.objects.create(uid="04OTHER01", label="Someone else")
    register(tenant_a, "SIM-R16", "SIM-R201")
    yield
    wait_until_offline(tenant_a)


@contextlib.asynccontextmanager
async def running(charger, tenant):
    task = asyncio.create_task(charger.run())
    try:
        assert await charger.wait_until(lambda: charger.online, PATIENCE)
        # Both connectors have reported their status: the server knows them.
        await eventually(lambda: connectors_known(tenant, charger.id), what="the connectors")
        yield charger
    finally:
        await charger.stop(within=PATIENCE)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@sync_to_async
def connectors_known(tenant, identity):
    with scoping.scope(tenant):
        return Connector.objects.filter(charger__identity=identity, evse_id__gt=0).count() == 2


@sync_to_async
def reserve(tenant, identity, evse_id=1, tag=TAG):
    with scoping.scope(tenant):
        charger = Charger.objects.get(identity=identity)
        return reservation_create(
            charger=charger,
            evse_id=evse_id,
            id_tag=tag,
            expires_at=timezone.now() + timedelta(hours=1),
        ).pk


@sync_to_async
def cancel(tenant, reservation_id):
    with scoping.scope(tenant):
        reservation_cancel(reservation=Reservation.objects.get(pk=reservation_id))


def status_of(tenant, reservation_id, *wanted):
    @sync_to_async
    def check():
        with scoping.scope(tenant):
            reservation = Reservation.objects.select_related("session").get(pk=reservation_id)
            return reservation if reservation.status in wanted else None

    return check


def connector_status(tenant, identity, evse_id, wanted):
    @sync_to_async
    def check():
        with scoping.scope(tenant):
            connector = Connector.objects.get(charger__identity=identity, evse_id=evse_id)
            return connector.status == wanted

    return check


@pytest.mark.parametrize(("identity", "version"), [("SIM-R16", "1.6"), ("SIM-R201", "2.0.1")])
async def test_a_charger_accepts_a_reservation_and_the_tokens_session_uses_it(
    ocpp_server_in_process, registered, tenant_a, identity, version
):
    charger = simulated(ocpp_server_in_process, identity, version)
    with eager_tasks():
        async with running(charger, tenant_a):
            reservation_id = await reserve(tenant_a, identity, evse_id=2)
            accepted = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.ACCEPTED),
                what="the charger's acceptance",
            )
            await eventually(
                connector_status(tenant_a, identity, 2, "Reserved"), what="connector 2 Reserved"
            )

            # Someone else cannot take the reserved connector; the token's driver can.
            assert await charger.start_session("04OTHER01", connector_id=2) is None
            session = await charger.start_session(TAG, connector_id=2)
            assert session is not None
            used = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.USED),
                what="the reservation used",
            )

    assert accepted.charger_status == "Accepted" and accepted.ocpp_id == 1
    assert used.session is not None and used.session.evse_id == 2
    assert used.session.reservation_id == used.ocpp_id


@pytest.mark.parametrize(("identity", "version"), [("SIM-R16", "1.6"), ("SIM-R201", "2.0.1")])
async def test_a_reservation_is_cancelled_at_the_charger(
    ocpp_server_in_process, registered, tenant_a, identity, version
):
    charger = simulated(ocpp_server_in_process, identity, version)
    with eager_tasks():
        async with running(charger, tenant_a):
            reservation_id = await reserve(tenant_a, identity)
            await eventually(status_of(tenant_a, reservation_id, ReservationStatus.ACCEPTED))
            await cancel(tenant_a, reservation_id)
            cancelled = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.CANCELLED),
                what="the cancellation",
            )
            await eventually(
                connector_status(tenant_a, identity, 1, "Available"), what="connector 1 free"
            )

    assert cancelled.detail == "Cancelled at the charger."
    assert all(c.reservation is None for c in charger.connectors.values())


async def test_an_occupied_connector_is_refused_by_the_charger(
    ocpp_server_in_process, registered, tenant_a
):
    charger = simulated(ocpp_server_in_process, "SIM-R16", "1.6")
    with eager_tasks():
        async with running(charger, tenant_a):
            assert await charger.start_session("04OTHER01", connector_id=1) is not None
            reservation_id = await reserve(tenant_a, "SIM-R16", evse_id=1)
            rejected = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.REJECTED),
                what="the charger's refusal",
            )

    assert rejected.charger_status == "Occupied"
    assert rejected.detail == "The charger answered Occupied."


async def test_a_station_that_ends_a_reservation_closes_it(
    ocpp_server_in_process, registered, tenant_a
):
    charger = simulated(ocpp_server_in_process, "SIM-R201", "2.0.1")
    with eager_tasks():
        async with running(charger, tenant_a):
            reservation_id = await reserve(tenant_a, "SIM-R201")
            await eventually(status_of(tenant_a, reservation_id, ReservationStatus.ACCEPTED))
            # The station's clock reaches the expiry: it says so (ReservationStatusUpdate).
            assert charger.expire_reservations(timezone.now() + timedelta(hours=2)) == 1
            expired = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.EXPIRED),
                what="the station's expiry",
            )

    assert expired.detail == "The charger reported it expired."


@sync_to_async
def reserve_for_later(tenant, identity):
    with scoping.scope(tenant):
        charger = Charger.objects.get(identity=identity)
        return reservation_create(
            charger=charger,
            evse_id=2,
            id_tag=TAG,
            expires_at=timezone.now() + timedelta(hours=1),
            when_online=True,
        ).pk


async def test_a_reservation_waiting_for_its_charger_goes_out_when_it_boots(
    ocpp_server_in_process, registered, tenant_a
):
    # As the demo's: made before the charger ever connected.
    reservation_id = await reserve_for_later(tenant_a, "SIM-R16")
    charger = simulated(ocpp_server_in_process, "SIM-R16", "1.6")
    with eager_tasks():
        async with running(charger, tenant_a):
            await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.ACCEPTED),
                what="the charger's acceptance",
            )
            await eventually(
                connector_status(tenant_a, "SIM-R16", 2, "Reserved"), what="connector 2 Reserved"
            )


async def test_any_connector_of_a_201_station_is_reserved_and_used(
    ocpp_server_in_process, registered, tenant_a
):
    charger = simulated(ocpp_server_in_process, "SIM-R201", "2.0.1")
    with eager_tasks():
        async with running(charger, tenant_a):
            reservation_id = await reserve(tenant_a, "SIM-R201", evse_id=None)
            await eventually(status_of(tenant_a, reservation_id, ReservationStatus.ACCEPTED))
            # The station held its first free EVSE; the driver's session there uses it.
            await eventually(connector_status(tenant_a, "SIM-R201", 1, "Reserved"))
            assert await charger.start_session(TAG) is not None
            used = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.USED),
                what="the reservation used",
            )

    assert used.evse_id is None and used.session.evse_id == 1


async def test_a_16_charger_that_reserves_no_connector_zero_says_so(
    ocpp_server_in_process, registered, tenant_a
):
    # The simulated 1.6 charger has ReserveConnectorZeroSupported false, as many do.
    charger = simulated(ocpp_server_in_process, "SIM-R16", "1.6")
    with eager_tasks():
        async with running(charger, tenant_a):
            reservation_id = await reserve(tenant_a, "SIM-R16", evse_id=None)
            rejected = await eventually(
                status_of(tenant_a, reservation_id, ReservationStatus.REJECTED)
            )

    assert rejected.charger_status == "Rejected"
