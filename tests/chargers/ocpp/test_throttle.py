"""Refused handshakes: a flood from one address, a charger retrying a wrong password, and
guessing at one charger's password from many addresses cost a hash and a row only while they
are few, and never keep the right charger out."""

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from chargers.models import HandshakeRefusal
from chargers.ocpp import throttle as limits
from chargers.ocpp.throttle import Throttle
from cpms.tenancy import scoping
from tests.chargers.ocpp.clients import basic, connected, refused_status
from tests.chargers.ocpp.fixtures import wait_until_the_database_is_idle
from tests.helpers import child_env, database_url, running_server

CP = ("tenant-a", "CP-1")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(clock):
    return Throttle(clock=clock)


def fail(throttle, address="198.51.100.7", identity=CP, times=1, reason="wrong_password"):
    return [
        throttle.failed(address=address, identity=identity, reason=reason) for _ in range(times)
    ]


def test_a_charger_retrying_a_wrong_password_is_refused_unheard_and_only_it(throttle):
    fail(throttle, times=limits.PAIR_LIMIT)
    assert not throttle.heard(address="198.51.100.7", identity=CP)
    # Another charger behind the same address (a depot's NAT) still gets its hearing.
    assert throttle.heard(address="198.51.100.7", identity=("tenant-a", "CP-2"))


def test_an_address_trying_many_ids_is_refused_unheard(throttle):
    for n in range(limits.ADDRESS_LIMIT):
        fail(throttle, identity=("tenant-a", f"GUESS-{n}"))
    assert not throttle.heard(address="198.51.100.7", identity=("tenant-a", "ANOTHER"))
    assert throttle.heard(address="203.0.113.1", identity=("tenant-a", "ANOTHER"))


def test_while_an_id_is_guessed_at_only_its_last_address_is_heard(throttle):
    for n in range(limits.IDENTITY_LIMIT):
        fail(throttle, address=f"203.0.113.{n}")
    assert throttle.heard(address="198.51.100.7", identity=CP)
    last = "192.0.2.10"
    assert not throttle.heard_for_charger(address="198.51.100.99", identity=CP, last_address=last)
    assert throttle.heard_for_charger(address=last, identity=CP, last_address=last)


def test_the_counts_last_one_window(throttle, clock):
    fail(throttle, times=limits.PAIR_LIMIT)
    clock.now += limits.WINDOW + 1
    assert throttle.heard(address="198.51.100.7", identity=CP)


def test_a_refusal_is_recorded_once_per_kind_and_window(throttle, clock):
    assert fail(throttle, times=3) == [True, False, False]
    assert fail(throttle, reason="identity_mismatch") == [True]
    assert fail(throttle, address="203.0.113.1") == [True]
    clock.now += limits.WINDOW + 1
    assert fail(throttle) == [True]


def test_switched_off_it_hears_and_records_everything(clock):
    throttle = Throttle(enabled=False, clock=clock)
    assert all(fail(throttle, times=limits.ADDRESS_LIMIT + 1))
    assert throttle.heard(address="198.51.100.7", identity=CP)


@sync_to_async
def refusal_count() -> int:
    with scoping.unscoped():
        return HandshakeRefusal.objects.count()


HOME = {"X-Forwarded-For": "192.0.2.10"}


@pytest.fixture
def throttled_server(transactional_db, tenant_a, make_charger):
    """A server of the test's own (its counts start at nothing), throttling as production
    does and believing the addresses this process, its "proxy", forwards; and CP-1."""
    make_charger(tenant_a)
    env = child_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=settings.REDIS_URL or None,
        TRUSTED_PROXIES="127.0.0.1",
    )
    with running_server(env, "--no-worker") as port:
        yield f"ws://127.0.0.1:{port}"
    wait_until_the_database_is_idle()


async def known_charger(server):
    """CP-1 connects once from its usual address, which the server then knows."""
    async with connected(server, "tenant-a", "CP-1", headers=HOME) as cp:
        await cp.boot()


async def guess(server, addresses, times=200):
    for n in range(times):
        wrong = basic("CP-1", f"not-the-password-{n}") | {
            "X-Forwarded-For": addresses[n % len(addresses)]
        }
        assert await refused_status(server, "tenant-a", "CP-1", wrong) == 401


async def assert_the_charger_gets_in(server):
    async with connected(server, "tenant-a", "CP-1", headers=HOME) as cp:
        assert (await cp.boot()).status == "Accepted"


@pytest.mark.django_db(transaction=True)
async def test_a_flood_of_wrong_passwords_from_one_address_writes_one_row(throttled_server):
    await known_charger(throttled_server)
    await guess(throttled_server, ["198.51.100.7"])
    assert await refusal_count() == 1
    await assert_the_charger_gets_in(throttled_server)


@pytest.mark.django_db(transaction=True)
async def test_a_flood_at_a_tenant_that_does_not_exist_writes_one_row(throttled_server):
    for n in range(200):
        headers = basic("CP-1", f"guess-{n}") | {"X-Forwarded-For": "198.51.100.7"}
        assert await refused_status(throttled_server, "no-such-tenant", "CP-1", headers) == 401
    assert await refusal_count() == 1


@pytest.mark.django_db(transaction=True)
async def test_guessing_from_many_addresses_stops_hearing_all_but_the_chargers_own(
    throttled_server,
):
    await known_charger(throttled_server)
    await guess(throttled_server, [f"198.51.100.{n}" for n in range(50)])
    # One row per address until the id's limit; everything after it refused unheard.
    assert await refusal_count() == limits.IDENTITY_LIMIT
    await assert_the_charger_gets_in(throttled_server)
