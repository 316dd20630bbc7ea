"""One INSERT statement for rows that arrive dozens of times a minute per charger.

`bulk_create` compiles its statement and prepares every value through its field each time; for
a MeterValues with nine samples that costs several times the database's own work. Here the
statement is built once per model and columns. On PostgreSQL the rows go as one array per
column, unnested into one INSERT: one statement for the server to run whatever the row count,
and one the driver parses once and caches (it caches only statements of up to 50 parameters,
which a multi-row VALUES list soon passes). The driver adapts the plain values these rows hold
(numbers, text, Decimal, aware datetimes, booleans, None) itself. Other databases get one
`executemany`, each value through its field's `get_db_prep_save`, as `bulk_create` would. Rows
are dicts keyed by field attname (`charger_id`) and must name their tenant.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection, models


@lru_cache(maxsize=64)
def _fields(model: type[models.Model], names: tuple[str, ...]) -> list[models.Field]:
    fields = [model._meta.get_field(name) for name in names]  # attnames resolve too
    # Fields the rows leave out take their defaults, as with bulk_create.
    fields += [
        field
        for field in model._meta.concrete_fields
        if field not in fields and field.has_default() and not field.primary_key
    ]
    return fields


def _array_type(field: models.Field) -> str:
    # Text goes as text[]: a cast to varchar(n) would cut an over-long value silently, where
    # the column itself refuses it.
    if isinstance(field, models.CharField | models.TextField):
        return "text[]"
    return f"{field.cast_db_type(connection)}[]"


@lru_cache(maxsize=64)
def _statement(model: type[models.Model], names: tuple[str, ...], ignore: bool) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    # Names and types come from the model; values go as parameters.
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{_array_type(field)}" for field in fields)
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    else:
        values = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    if ignore:
        sql += " ON CONFLICT DO NOTHING"
    return sql


def insert_rows(
    model: type[models.Model], rows: list[dict], *, ignore_conflicts: bool = False
) -> None:
    """INSERT `rows` into `model`'s table; with ignore_conflicts, rows that break a unique
    constraint are skipped (a resend), the others stored."""
    if not rows:
        return
    names = tuple(rows[0])
    if "tenant_id" not in names:
        raise ValueError(f"{model.__name__} rows must name their tenant")
    fields = _fields(model, names)
    sql = _statement(model, names, ignore_conflicts)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [[row[name] for row in rows] for name in names]
            columns += [[field.get_default()] * len(rows) for field in fields[len(names) :]]
            cursor.execute(sql, columns)
            return
        params = [
            tuple(
                field.get_db_prep_save(row.get(field.attname, field.get_default()), connection)
                for field in fields
            )
            for row in rows
        ]
        cursor.executemany(sql, params)
