"""The event bus: listeners by class and phase; in-transaction ones share the fact's fate,
after-commit ones hear only of committed facts."""

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import models, transaction

from cpms.events import (
    AFTER_COMMIT,
    IN_TRANSACTION,
    Bus,
    DomainEvent,
    captured,
    only_when_set,
    publish,
)
from cpms.models import Tenant


@dataclass(frozen=True, kw_only=True)
class Ping(DomainEvent):
    name = "test.ping"

    n: int


@dataclass(frozen=True, kw_only=True)
class Measured(DomainEvent):
    name = "test.measured"

    energy_wh: Decimal
    power_w: Decimal | None
    at: datetime
    note: str | None = only_when_set()


@dataclass(frozen=True, kw_only=True)
class Priced(Measured):
    name = "test.priced"

    price: Decimal


def test_an_in_transaction_listener_runs_at_once(db):
    bus, heard = Bus(), []
    bus.subscribe(Ping, heard.append, phase=IN_TRANSACTION)
    with transaction.atomic():
        bus.publish(Ping(tenant_id=1, n=1))
        assert heard == [Ping(tenant_id=1, n=1)]


def test_an_in_transaction_listeners_write_rolls_back_with_the_fact(db):
    bus = Bus()

    def write(event):
        Tenant.objects.create(slug=f"t{event.n}", name="written by the listener")

    bus.subscribe(Ping, write, phase=IN_TRANSACTION)
    with contextlib.suppress(RuntimeError), transaction.atomic():
        bus.publish(Ping(tenant_id=None, n=1))
        raise RuntimeError("the service's transaction fails")
    bus.publish(Ping(tenant_id=None, n=2))
    assert list(Tenant.objects.values_list("slug", flat=True)) == ["t2"]


def test_an_in_transaction_listeners_failure_fails_the_service(db):
    bus = Bus()

    def broken(event):
        raise ValueError("no outbox today")

    bus.subscribe(Ping, broken, phase=IN_TRANSACTION)
    with pytest.raises(ValueError, match="no outbox"):
        bus.publish(Ping(tenant_id=1, n=1))


@pytest.mark.django_db(transaction=True)
def test_an_after_commit_listener_hears_of_the_fact_once_it_is_committed():
    bus, heard = Bus(), []
    bus.subscribe(Ping, heard.append, phase=AFTER_COMMIT)
    with transaction.atomic():
        bus.publish(Ping(tenant_id=1, n=1))
        assert heard == []
    assert heard == [Ping(tenant_id=1, n=1)]


@pytest.mark.django_db(transaction=True)
def test_an_after_commit_listener_hears_nothing_of_a_rolled_back_fact():
    bus, heard = Bus(), []
    bus.subscribe(Ping, heard.append, phase=AFTER_COMMIT)
    with contextlib.suppress(RuntimeError), transaction.atomic():
        bus.publish(Ping(tenant_id=1, n=1))
        raise RuntimeError("the service's transaction fails")
    with transaction.atomic():
        with contextlib.suppress(RuntimeError), transaction.atomic():
            bus.publish(Ping(tenant_id=1, n=2))
            raise RuntimeError("a savepoint is rolled back")
        bus.publish(Ping(tenant_id=1, n=3))
    assert heard == [Ping(tenant_id=1, n=3)]


@pytest.mark.django_db(transaction=True)
def test_an_after_commit_listener_runs_at_once_outside_a_transaction():
    bus, heard = Bus(), []
    bus.subscribe(Ping, heard.append, phase=AFTER_COMMIT)
    bus.publish(Ping(tenant_id=1, n=1))
    assert heard == [Ping(tenant_id=1, n=1)]


@pytest.mark.django_db(transaction=True)
def test_an_after_commit_listeners_failure_is_logged_and_the_next_listener_still_hears(caplog):
    bus, heard = Bus(), []

    def broken(event):
        raise ConnectionError("Redis is away")

    bus.subscribe(Ping, broken, phase=AFTER_COMMIT)
    bus.subscribe(Ping, heard.append, phase=AFTER_COMMIT)
    with caplog.at_level(logging.ERROR, logger="cpms.events"), transaction.atomic():
        bus.publish(Ping(tenant_id=1, n=1))
    assert heard == [Ping(tenant_id=1, n=1)]
    assert "broken failed after the commit of test.ping" in caplog.text


def test_a_listener_of_a_base_class_hears_its_subclasses_only(db):
    bus, measured, pings = Bus(), [], []
    bus.subscribe(Measured, measured.append, phase=IN_TRANSACTION)
    bus.subscribe(Ping, pings.append, phase=IN_TRANSACTION)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    priced = Priced(tenant_id=1, energy_wh=Decimal(1), power_w=None, at=at, price=Decimal(2))
    bus.publish(priced)
    assert measured == [priced] and pings == []
    assert bus.listeners(Priced) == {IN_TRANSACTION: [measured.append], AFTER_COMMIT: []}


def test_subscribing_twice_is_hearing_once(db):
    bus, heard = Bus(), []
    bus.subscribe(Ping, heard.append, phase=IN_TRANSACTION)
    bus.subscribe(Ping, heard.append, phase=IN_TRANSACTION)
    bus.publish(Ping(tenant_id=1, n=1))
    assert len(heard) == 1


def test_captured_sees_what_the_process_bus_published(db):
    with captured(Ping) as published:
        publish(Ping(tenant_id=None, n=1))
    publish(Ping(tenant_id=None, n=2))
    assert published == [Ping(tenant_id=None, n=1)]


def test_data_writes_times_and_decimals_as_strings_and_leaves_out_unset_optional_fields():
    at = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    event = Measured(tenant_id=7, energy_wh=Decimal("1234.500"), power_w=None, at=at)
    assert event.data() == {
        "energy_wh": "1234.500",
        "power_w": None,
        "at": "2026-03-01T12:30:15.250000+00:00",
    }
    assert Measured.data_fields() == [
        ("energy_wh", False),
        ("power_w", False),
        ("at", False),
        ("note", True),
    ]


def test_an_event_comes_back_from_its_data():
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    for event in [
        Measured(tenant_id=7, energy_wh=Decimal("0.5"), power_w=Decimal("7200"), at=at, note="n"),
        Measured(tenant_id=7, energy_wh=Decimal("0"), power_w=None, at=at),
    ]:
        assert Measured.from_data(event.data(), tenant_id=7) == event


def test_an_event_of_a_row_takes_the_fields_not_given_from_the_row_and_choices_as_values():
    class Unit(models.TextChoices):
        KWH = "kWh", "kilowatt-hours"

    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    row = SimpleNamespace(tenant_id=7, energy_wh=Decimal("5"), power_w=None, at=at, note=Unit.KWH)
    event = Measured.from_row(row, power_w=Decimal("11000"))
    assert event == Measured(
        tenant_id=7, energy_wh=Decimal("5"), power_w=Decimal("11000"), at=at, note="kWh"
    )
    assert type(event.note) is str


def test_a_field_without_a_json_form_is_refused():
    @dataclass(frozen=True, kw_only=True)
    class Odd(DomainEvent):
        name = "test.odd"

        when: set

    with pytest.raises(TypeError, match="no JSON form"):
        Odd(tenant_id=1, when=set()).data()


def test_two_classes_cannot_share_a_name():
    with pytest.raises(TypeError, match="both 'test.ping'"):

        @dataclass(frozen=True, kw_only=True)
        class Impostor(DomainEvent):
            name = "test.ping"
