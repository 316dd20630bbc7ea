"""Fixed statements for what happens dozens of times a minute per charger: the ORM compiles its
SQL anew at every call, which for these small statements costs several times the database's
own work. Each statement here is built once per model and shape, and stays in the tenant scope
of the caller like the ORM's querysets.

- `insert_rows`: one INSERT of many rows. `bulk_create` prepares every value through its field
  each time; on PostgreSQL the rows go as one multi-row INSERT, and its driver adapts the plain
  values these rows hold (numbers, text, Decimal, aware datetimes, booleans, None) itself;
  other databases get one `executemany`, each value through its field's `get_db_prep_save`, as
  `bulk_create` would. Rows are dicts keyed by field attname (`charger_id`) and must name their
  tenant.
- `insert_rows_later`: the same, or, inside `together()` (a group commit's transaction), with
  the other rows of that table and shape written in one INSERT before the commit.
- `new_id`: a primary key from the table's sequence before its row is written.
- `insert_one`: one model instance, its primary key from `new_id`, as `save()` creates it.
- `save_fields`: some columns of one row, as `save(update_fields=...)` writes them.
- `update_if_unchanged`: some columns of one row if others still hold what the caller last
  saw there (compare-and-set), and the row as written.
- `one_row`, `locked_row`, `any_row`: one row by a unique key, locked or not, or whether any;
  `row_values`: some of its columns.
- `plain_rows`: the SQL of a `values_list` queryset, compiled once per process and scope.

On PostgreSQL the statements built here bind their parameters on the server
(cpms/postgresql/base.py); `plain_rows` runs Django's SQL with Django's cursor.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import DatabaseError, connection, models
from django.db.models.expressions import Col

from cpms.tenancy import scoping

_M = TypeVar("_M", bound=models.Model)

# Rows per statement on PostgreSQL, at most; fewer go in powers of two (`_chunks`).
CHUNK = 64


def _column_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field of `model` stored in a column, by name or attname (`charger_id`)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not stored in a column of its own")
    return field


@lru_cache(maxsize=64)
def _fields(model: type[models.Model], names: tuple[str, ...]) -> list[models.Field[Any, Any]]:
    fields = [_column_field(model, name) for name in names]
    # Fields the rows leave out take their defaults, as with bulk_create.
    fields += [
        field
        for field in model._meta.concrete_fields
        if field not in fields and field.has_default() and not field.primary_key
    ]
    return fields


@lru_cache(maxsize=256)
def _statement(model: type[models.Model], names: tuple[str, ...], ignore: bool, rows: int) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * rows)
    # Names come from the model, quoted; values go as parameters.
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
    if ignore:
        sql += " ON CONFLICT DO NOTHING"
    return sql


def insert_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, ignore_conflicts: bool = False
) -> int:
    """INSERT `rows` into `model`'s table; with ignore_conflicts, rows that break a unique
    constraint are skipped (a resend), the others stored. Returns how many were stored: with
    one row, whether it was new, told without a savepoint to catch the IntegrityError."""
    if not rows:
        return 0
    _check_scope(model, rows)
    names = tuple(rows[0])
    fields = _fields(model, names)
    defaulted = fields[len(names) :]
    stored = 0
    if connection.vendor == "postgresql":
        with _cursor() as cursor:
            for chunk in _chunks(rows):
                params = [
                    value
                    for row in chunk
                    for value in (
                        *(row[name] for name in names),
                        *(field.get_default() for field in defaulted),
                    )
                ]
                cursor.execute(_statement(model, names, ignore_conflicts, len(chunk)), params)
                stored += int(cursor.rowcount)
        return stored
    params = [
        tuple(
            field.get_db_prep_save(row.get(field.attname, field.get_default()), connection)
            for field in fields
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_statement(model, names, ignore_conflicts, 1), params)
        stored = int(cursor.rowcount)
    return stored


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """`rows` in chunks of CHUNK, then of powers of two (90 rows: 64, 16, 8, 2): a group
    commit's INSERTs hold any number of rows, and with a statement per row count the driver
    parsed each anew and the server planned each anew. These are a handful per table, kept
    parsed by psycopg and prepared by PostgreSQL (cpms/postgresql/base.py)."""
    start = 0
    while start < len(rows):
        size = CHUNK
        while size > len(rows) - start:
            size //= 2
        yield rows[start : start + size]
        start += size


# The rows `insert_rows_later` keeps for the end of the `together()` open on this thread.
_later = threading.local()


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Within: `insert_rows_later` keeps its rows, by table and shape, and they are written
    when the block ends without an error (before its transaction commits), or at
    `write_kept()`. On an error they are dropped with the transaction they belonged to."""
    _later.rows = {}
    try:
        yield
        write_kept()
    finally:
        _later.rows = None


def insert_rows_later(
    model: type[models.Model], rows: list[dict[str, Any]], *, ignore_conflicts: bool = False
) -> None:
    """`insert_rows` for rows nobody reads before the transaction commits, and whose count
    the caller does not need: inside `together()`, kept and written with the others (one
    INSERT for a group's MeterValues instead of one per message); else written at once. The
    tenant scope is checked now, as `insert_rows` checks it."""
    kept = getattr(_later, "rows", None)
    if kept is None or not rows:
        insert_rows(model, rows, ignore_conflicts=ignore_conflicts)
        return
    _check_scope(model, rows)
    kept.setdefault((model, tuple(rows[0]), ignore_conflicts), []).extend(rows)


def write_kept() -> None:
    """Write the rows `insert_rows_later` has kept so far in this `together()`."""
    kept = getattr(_later, "rows", None)
    if not kept:
        return
    # Checked against their scopes when kept: the rows of several tenants go as one INSERT.
    with scoping.unscoped():
        for (model, _names, ignore_conflicts), rows in kept.items():
            insert_rows(model, rows, ignore_conflicts=ignore_conflicts)
    kept.clear()


def _check_scope(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    if "tenant_id" not in rows[0]:
        raise ValueError(f"{model.__name__} rows must name their tenant")
    # The rows name their tenant; it must be the scope's (platform work, unscoped, may write
    # for any tenant).
    if not scoping.is_unscoped():
        tenant = scoping.current_tenant()
        if tenant is None or any(row["tenant_id"] != tenant.pk for row in rows):
            raise scoping.TenantScopeError(
                f"{model.__name__} rows written for a tenant other than the scope's"
            )


def _cursor() -> Any:
    """A cursor for the fixed statements here: bound on the server where the backend offers it
    (cpms/postgresql/base.py), else Django's."""
    binding = getattr(connection, "binding_cursor", None)
    return binding() if binding is not None else connection.cursor()


# --- A primary key first ---------------------------------------------------------------------


def new_id(model: type[models.Model]) -> int | None:
    """A new primary key of `model` from its table's sequence, for a row with a column made
    from it (a 1.6 transaction id): the row is written once, with both, instead of inserted
    and then updated, which rewrote every index of it. None on a database without sequences
    (SQLite): there the caller writes the row first."""
    if connection.vendor != "postgresql":
        return None
    with _cursor() as cursor:
        cursor.execute(_next_id(model))
        return int(cursor.fetchone()[0])


@lru_cache(maxsize=8)
def _next_id(model: type[models.Model]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column],
        )
        sequence = cursor.fetchone()[0]
    # The sequence's name as PostgreSQL quotes it, not a value.
    return f"SELECT nextval('{sequence}')"


# --- Some columns of one row ------------------------------------------------------------------


@lru_cache(maxsize=64)
def _update_one(model: type[models.Model], names: tuple[str, ...], scoped: bool) -> str:
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(_column_field(model, name).column)} = %s" for name in names)
    conditions = [f"{quote(model._meta.pk.column)} = %s"]
    if scoped:
        conditions.append(f"{quote('tenant_id')} = %s")
    table = quote(model._meta.db_table)
    return f"UPDATE {table} SET {sets} WHERE {' AND '.join(conditions)}"  # noqa: S608


def insert_one(obj: models.Model) -> None:
    """What `obj.save(force_insert=True)` does, its primary key set already (`new_id`), in the
    active tenant scope, for the price of one fixed statement (each field's pre_save, so
    auto_now; no signals, as with `save_fields`). The values go as `insert_rows` sends them:
    plain ones only (no JSON field). The ORM compiled a session's INSERT anew at every start."""
    model = type(obj)
    if obj.pk is None:
        raise ValueError(f"{model.__name__}: insert_one needs the primary key (new_id)")
    fields = model._meta.concrete_fields
    insert_rows(model, [{field.attname: field.pre_save(obj, True) for field in fields}])
    obj._state.adding = False
    obj._state.db = connection.alias


def save_fields(obj: models.Model, names: Sequence[str]) -> None:
    """What `obj.save(update_fields=names)` does to a row that exists, in the active tenant
    scope, for the price of one fixed statement (each field's pre_save, so auto_now, and its
    get_db_prep_save; no signals: the models saved this way have no receivers). A running
    session's figures are saved this way at each MeterValues; the ORM compiled the UPDATE anew
    each time."""
    model = type(obj)
    key = tuple(names)
    fields = [_column_field(model, name) for name in key]
    values = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    scope = scope_params(model)
    with _cursor() as cursor:
        cursor.execute(_update_one(model, key, bool(scope)), [*values, obj.pk, *scope])
        if cursor.rowcount != 1:  # as Model.save says it
            raise DatabaseError(f"{model.__name__} {obj.pk}: no row updated in the scope")


@lru_cache(maxsize=64)
def _update_if(
    model: type[models.Model],
    names: tuple[str, ...],
    expected: tuple[str, ...],
    scoped: bool,
    whole_row: bool,
) -> str:
    """`_update_one`'s statement, also conditional on `expected`, giving the row back if
    `whole_row`."""
    quote = connection.ops.quote_name
    guards = "".join(
        f" AND {quote(_column_field(model, name).column)} IS NOT DISTINCT FROM %s"
        for name in expected
    )
    if not whole_row:
        return f"{_update_one(model, names, scoped)}{guards}"
    selected = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    return f"{_update_one(model, names, scoped)}{guards} RETURNING {selected}"


def update_if_unchanged(
    model: type[_M], pk: Any, values: dict[str, Any], expected: dict[str, Any]
) -> _M | None:
    """Set `values` (attnames to values, as given: no auto_now) on the row `pk` of `model` if
    its `expected` columns still hold those values, in the active tenant scope, with one fixed
    statement and no lock taken before: the row as written, or None when another writer has
    changed one of them since, or the row is gone. For a write computed from what the caller
    saw last, without reading and locking the row first (PostgreSQL: UPDATE ... RETURNING)."""
    with _update_if_unchanged(model, pk, values, expected, whole_row=True) as cursor:
        row = cursor.fetchone()
    return None if row is None else instance(model, row)


def write_if_unchanged(
    model: type[models.Model], pk: Any, values: dict[str, Any], expected: dict[str, Any]
) -> bool:
    """`update_if_unchanged` for a caller that knows the row as written already: whether it
    was written. Reading a whole row back (every column's value made, a model instance) was
    most of a MeterValues' own work on the database thread."""
    with _update_if_unchanged(model, pk, values, expected, whole_row=False) as cursor:
        written: int = cursor.rowcount
    return written == 1


@contextlib.contextmanager
def _update_if_unchanged(
    model: type[models.Model],
    pk: Any,
    values: dict[str, Any],
    expected: dict[str, Any],
    *,
    whole_row: bool,
) -> Iterator[Any]:
    names, guarded = tuple(values), tuple(expected)
    scope = scope_params(model)
    params = [
        *(_column_field(model, name).get_db_prep_save(values[name], connection) for name in names),
        pk,
        *scope,
        *(
            _column_field(model, name).get_db_prep_save(expected[name], connection)
            for name in guarded
        ),
    ]
    with _cursor() as cursor:
        cursor.execute(_update_if(model, names, guarded, bool(scope), whole_row), params)
        yield cursor


# --- A tenant named by the caller ---------------------------------------------------------------


def tenant_param(tenant_id: int) -> int:
    """`tenant_id` as the parameter of a fixed statement that filters on it: it must be the
    active scope's tenant (or any, in platform work), so a caller cannot read another tenant's
    rows by passing its id."""
    if scoping.is_unscoped():
        return tenant_id
    tenant = scoping.current_tenant()
    if tenant is None or tenant.pk != tenant_id:
        raise scoping.TenantScopeError(
            f"rows of tenant {tenant_id} asked in the scope of {tenant.pk if tenant else 'none'}"
        )
    return tenant_id


# --- One row by a unique key ---------------------------------------------------------------------


@lru_cache(maxsize=32)
def _select_one(
    model: type[models.Model],
    where: tuple[str, ...],
    ignore_case: bool,
    lock: bool,
    scoped: bool,
    columns: tuple[str, ...] | None = None,
) -> str:
    """SELECT the row: all its columns (`columns` None), some (attnames) or none (())."""
    quote = connection.ops.quote_name
    if columns is None:
        selected = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    elif columns:
        selected = ", ".join(quote(_column_field(model, name).column) for name in columns)
    else:
        selected = "1"
    # With ignore_case, the key is matched as UPPER(column) = UPPER(value), the form a unique
    # index on Upper(...) serves.
    compare = "UPPER({}) = UPPER(%s)" if ignore_case else "{} = %s"
    conditions = [compare.format(quote(_column_field(model, name).column)) for name in where]
    if scoped:
        conditions.append(f"{quote('tenant_id')} = %s")
    # NO KEY UPDATE: the lock an UPDATE of non-key columns takes, so the row's writers take
    # turns while rows that refer to it (its samples, its log) are still inserted meanwhile.
    features = connection.features
    for_update = ""
    if lock and features.has_select_for_no_key_update:
        for_update = " FOR NO KEY UPDATE"
    elif lock and features.has_select_for_update:
        for_update = " FOR UPDATE"
    table = quote(model._meta.db_table)
    return (
        f"SELECT {selected} FROM {table} WHERE {' AND '.join(conditions)}"  # noqa: S608
        f" LIMIT 1{for_update}"
    )


def locked_row(model: type[_M], **where: Any) -> _M | None:
    """The row of `model` matching `where` (attnames of a unique key), locked until the
    transaction ends, or None: what `select_for_update(no_key=True).filter(...).first()`
    gives, in the active tenant scope, for the price of one fixed statement; messages that
    arrive every few seconds per charger look their session up this way, and the ORM would
    compile the query anew each time."""
    return one_row(model, lock=True, **where)


def row_values(
    model: type[models.Model], names: Sequence[str], *, lock: bool = False, **where: Any
) -> tuple[Any, ...] | None:
    """The columns `names` (attnames) of the row of `model` matching `where` (a unique key),
    as the driver returns them (no field's converter: plain columns), or None; locked as
    `locked_row` locks it with `lock`. In the active tenant scope, with one fixed statement
    and no model instance: for a write that needs a few columns of the row it locks (a
    charger's tenant and site at a session's start), not its thirty."""
    keys = tuple(where)
    scope = scope_params(model)
    statement = _select_one(model, keys, False, lock, bool(scope), columns=tuple(names))
    with _cursor() as cursor:
        cursor.execute(statement, [*(where[name] for name in keys), *scope])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def any_row(model: type[models.Model], **where: Any) -> bool:
    """Whether a row of `model` matches `where` (attnames), in the active tenant scope, with
    one fixed statement: a cheap look before work that most calls do not need."""
    return row_values(model, (), **where) is not None


def scope_params(model: type[models.Model] | None = None) -> list[int]:
    """The tenant parameter of a fixed statement in the active scope (none in platform work);
    outside any scope, refused as the model's queryset would be."""
    if scoping.is_unscoped():
        return []
    tenant = scoping.current_tenant()
    if tenant is None:
        what = model.__name__ if model else "a tenant's rows"
        raise scoping.TenantScopeError(f"{what} read outside any tenant scope")
    return [tenant.pk]


def one_row(
    model: type[_M], *, lock: bool = False, ignore_case: bool = False, **where: Any
) -> _M | None:
    """The row of `model` matching `where` (a unique key), or None, in the active tenant scope
    and with one fixed statement; see `locked_row`. With ignore_case, text is compared
    case-insensitively, as the `iexact` lookup does."""
    names = tuple(where)
    scope = scope_params(model)
    params = [*(where[name] for name in names), *scope]
    scoped = bool(scope)
    with _cursor() as cursor:
        cursor.execute(_select_one(model, names, ignore_case, lock, scoped), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return instance(model, row)


def instance(model: type[_M], values: Sequence[Any]) -> _M:
    """The instance of `model` whose concrete columns, in their order, a fixed statement read
    as `values`, converted as the ORM converts them."""
    attnames, converters = _converters(model)
    converted = list(values)
    for index, expression, convert in converters:
        converted[index] = convert(converted[index], expression, connection)
    return model.from_db(connection.alias, attnames, converted)


def columns(model: type[models.Model], alias: str) -> str:
    """`model`'s concrete columns, in their order, for a fixed statement's SELECT (`instance`),
    the table named `alias` there."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


_Converter = Callable[[Any, Col, Any], Any]


@lru_cache(maxsize=32)
def _converters(
    model: type[models.Model],
) -> tuple[list[str], list[tuple[int, Col, _Converter]]]:
    """The attnames of `model`'s columns, and the conversions the ORM applies to what the
    driver returns for them (JSON text to objects, SQLite's text to Decimal, ...)."""
    fields = model._meta.concrete_fields
    converters: list[tuple[int, Col, _Converter]] = []
    for index, field in enumerate(fields):
        expression = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        ):
            converters.append((index, expression, convert))
    return [field.attname for field in fields], converters


# --- A read repeated with the same arguments -----------------------------------------------------


@lru_cache(maxsize=1024)
def _compiled(
    build: Callable[..., models.QuerySet[Any]], args: tuple[Hashable, ...], scope: tuple[int, ...]
) -> tuple[str, tuple[Any, ...]]:
    sql, params = build(*args).query.sql_with_params()
    return sql, tuple(params)


def plain_rows(
    build: Callable[..., models.QuerySet[Any]], *args: Hashable
) -> list[tuple[Any, ...]]:
    """The rows of the `values_list` query `build(*args)` returns, as the driver returns them
    (without the fields' converters: for columns whose raw value the caller uses as it is:
    text, numbers, flags it only tests for truth), its SQL compiled once per process,
    arguments and tenant scope. For big reads repeated with the same arguments (a site's, on
    every recompute of its load plan), where the ORM's compiling costs more than the database's
    work; `build` must depend on nothing but its arguments and the scope."""
    sql, params = _compiled(build, args, tuple(scope_params()))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    return found
