"""Domain events: typed facts that services publish, and the listeners that hear them.

An event is a frozen dataclass deriving from `DomainEvent`, built by the service that wrote the
fact (`SessionStarted.of(session)`) and handed to `publish()`. Its class is the contract: the
fields are what listeners read; `data()` is its JSON form (times as ISO 8601 strings, decimals as
strings), which the live dashboards and the webhooks send as it is; `name` names it on the live
channel and between processes; `webhook` says under which type integrators receive it (None:
they do not); `portal` says whether a site owner's dashboard may hear it (its `charger_id` must
then be one of the owner's chargers).

Listeners subscribe to an event class, or to a base class to hear all of its subclasses, in one
of two phases that the subscription names:

- `IN_TRANSACTION`: called by `publish()`, inside the publishing service's transaction. For writes
  that must commit or roll back with the fact they report (the webhook outbox). An exception
  fails the service.
- `AFTER_COMMIT`: called once that transaction has committed (at once outside a transaction),
  never for a fact that was rolled back. For I/O: pushes to the live dashboards, Celery tasks.
  An exception is logged and goes no further: the service's work is committed by then.

Apps subscribe their listeners in `AppConfig.ready()`. Tests publish into their own `Bus()`, or
see what the process bus published with `captured()`.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import logging
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar

from django.apps import apps
from django.core.exceptions import AppRegistryNotReady
from django.db import transaction

log = logging.getLogger(__name__)

# Every concrete event class by name, filled as the classes are defined.
_catalogue: dict[str, type[DomainEvent]] = {}


def only_when_set() -> Any:
    """A field that `data()` leaves out while it is None ("present only sometimes")."""
    return field(default=None, metadata={"only_when_set": True})


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every domain event. Subclasses are frozen, keyword-only dataclasses; those that
    set `name` are concrete and listed in the catalogue."""

    name: ClassVar[str]
    webhook: ClassVar[str | None] = None
    portal: ClassVar[bool] = False

    tenant_id: int | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # a base for a family of events (all session events, say)
        known = _catalogue.get(cls.name)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise TypeError(f"{cls.__qualname__} and {known.__qualname__} are both {cls.name!r}")
        _catalogue[cls.name] = cls

    def data(self) -> dict[str, Any]:
        """The event's JSON form, without its tenant: what dashboards and webhooks receive."""
        data = {}
        for name, only_if_set in _shape(type(self)):
            value = getattr(self, name)
            if value is None:
                if only_if_set:
                    continue
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            data[name] = value
        return data

    @classmethod
    def from_row(cls, row: Any, **values: Any) -> Self:
        """The event of the row a service wrote: each field not given in `values` is the row's
        attribute of the same name (a choice as its plain value)."""
        for name in ("tenant_id", *(name for name, _ in _shape(cls))):
            if name not in values:
                value = getattr(row, name)
                values[name] = value.value if isinstance(value, enum.Enum) else value
        return cls(**values)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, tenant_id: int | None) -> Self:
        """The event again from its `data()`, in another process (a Celery task)."""
        values = {
            name: parse(data[name]) if parse and data[name] is not None else data[name]
            for name, parse in _parsers(cls).items()
            if name in data
        }
        return cls(tenant_id=tenant_id, **values)

    @classmethod
    def data_fields(cls) -> list[tuple[str, bool]]:
        """(field, present only when set) for each field of `data()`, in order."""
        return list(_shape(cls))


# The types a field may have: `data()` is JSON as it is (no encoder), apart from the times and
# decimals it writes as strings and `from_data()` reads back.
_FIELD_TYPES = {int, str, bool, float, Decimal, datetime, type(None), dict, list}


def _kinds(hint: Any) -> tuple[Any, ...]:
    """The types a field's hint allows: `Decimal | None` allows Decimal and None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


# Worked out once per event class. (A dict, not functools.cache: mypy takes a frozen
# dataclass's instance __hash__ for its class's and refuses the class as a cache key.)
_shapes: dict[type[DomainEvent], tuple[tuple[str, bool], ...]] = {}
_parser_tables: dict[type[DomainEvent], dict[str, Callable[[Any], Any] | None]] = {}


def _shape(cls: type[DomainEvent]) -> tuple[tuple[str, bool], ...]:
    if cls not in _shapes:
        _shapes[cls] = _work_out_shape(cls)
    return _shapes[cls]


def _work_out_shape(cls: type[DomainEvent]) -> tuple[tuple[str, bool], ...]:
    hints = typing.get_type_hints(cls)
    shape = []
    for f in fields(cls):
        if f.name == "tenant_id":
            continue
        if any((typing.get_origin(k) or k) not in _FIELD_TYPES for k in _kinds(hints[f.name])):
            raise TypeError(f"{cls.__qualname__}.{f.name}: {hints[f.name]} has no JSON form")
        shape.append((f.name, bool(f.metadata.get("only_when_set"))))
    return tuple(shape)


def _parsers(cls: type[DomainEvent]) -> dict[str, Callable[[Any], Any] | None]:
    """How `from_data()` reads each field back: times and decimals from their strings."""
    if cls in _parser_tables:
        return _parser_tables[cls]
    hints = typing.get_type_hints(cls)
    parsers: dict[str, Callable[[Any], Any] | None] = {}
    for name, _ in _shape(cls):
        kinds = _kinds(hints[name])
        parsers[name] = (
            datetime.fromisoformat if datetime in kinds else Decimal if Decimal in kinds else None
        )
    _parser_tables[cls] = parsers
    return parsers


def catalogue() -> list[type[DomainEvent]]:
    """Every concrete event class, by name. Complete once the apps are ready: each app imports
    its events module in `AppConfig.ready()`, where it subscribes its listeners."""
    if not apps.ready:
        raise AppRegistryNotReady("The event catalogue is complete once the apps are ready.")
    return [_catalogue[name] for name in sorted(_catalogue)]


def event_class(name: str) -> type[DomainEvent]:
    """The class of the event called `name` (for a task that received its name and data)."""
    return _catalogue[name]


class Phase(enum.Enum):
    IN_TRANSACTION = "in the publishing transaction"
    AFTER_COMMIT = "after the commit"


IN_TRANSACTION = Phase.IN_TRANSACTION
AFTER_COMMIT = Phase.AFTER_COMMIT

E = TypeVar("E", bound=DomainEvent)
Listener = Callable[[Any], None]


class Bus:
    """Listeners by event class and phase. The process has one (`bus`); tests make their own."""

    def __init__(self) -> None:
        self._subscriptions: list[tuple[type[DomainEvent], Listener, Phase]] = []
        # Per concrete class, its listeners of each phase: every meter reading publishes, so
        # the class hierarchy is walked once per class, not once per event.
        self._routes: dict[type[DomainEvent], tuple[tuple[Listener, ...], tuple[Listener, ...]]]
        self._routes = {}

    def subscribe(
        self, event_type: type[E], listener: Callable[[E], None], *, phase: Phase
    ) -> None:
        """Call `listener` with each event of `event_type` (subclasses included) in `phase`.
        Subscribing the same listener again changes nothing."""
        subscription = (event_type, listener, phase)
        if subscription not in self._subscriptions:
            self._subscriptions.append(subscription)
            self._routes.clear()

    def unsubscribe(self, event_type: type[DomainEvent], listener: Listener) -> None:
        self._subscriptions = [
            s for s in self._subscriptions if (s[0], s[1]) != (event_type, listener)
        ]
        self._routes.clear()

    def listeners(self, event_type: type[DomainEvent]) -> dict[Phase, list[Listener]]:
        """Who hears an event of this class, by phase, in the order they run."""
        now, later = self._route(event_type)
        return {IN_TRANSACTION: list(now), AFTER_COMMIT: list(later)}

    def publish(self, event: DomainEvent) -> None:
        """Tell the listeners: those of IN_TRANSACTION now, those of AFTER_COMMIT on commit."""
        now, later = self._routes.get(type(event)) or self._route(type(event))
        for listener in now:
            listener(event)
        if later:
            transaction.on_commit(functools.partial(_after_commit, later, event))

    def _route(
        self, event_type: type[DomainEvent]
    ) -> tuple[tuple[Listener, ...], tuple[Listener, ...]]:
        def of(phase: Phase) -> tuple[Listener, ...]:
            return tuple(
                listener
                for base, listener, when in self._subscriptions
                if when is phase and issubclass(event_type, base)
            )

        route = self._routes[event_type] = (of(IN_TRANSACTION), of(AFTER_COMMIT))
        return route


def _after_commit(listeners: tuple[Listener, ...], event: DomainEvent) -> None:
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            # The fact is committed; one listener's trouble must not reach the service or
            # keep the next listener from hearing of it.
            log.exception("%s failed after the commit of %s", _name_of(listener), event.name)


def _name_of(listener: Listener) -> str:
    return getattr(listener, "__qualname__", repr(listener))


bus = Bus()


def publish(event: DomainEvent) -> None:
    """Publish on the process bus, inside the service's transaction."""
    bus.publish(event)


def subscribe(event_type: type[E], listener: Callable[[E], None], *, phase: Phase) -> None:
    """Subscribe to the process bus (apps do it in `AppConfig.ready()`)."""
    bus.subscribe(event_type, listener, phase=phase)


@contextlib.contextmanager
def captured(event_type: type[DomainEvent] = DomainEvent) -> Iterator[list[DomainEvent]]:
    """The events of `event_type` published on the process bus while this is open, in order,
    whether or not their transactions commit later (for tests)."""
    published: list[DomainEvent] = []
    bus.subscribe(event_type, published.append, phase=IN_TRANSACTION)
    try:
        yield published
    finally:
        bus.unsubscribe(event_type, published.append)
