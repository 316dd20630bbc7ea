"""One INSERT statement for rows that arrive dozens of times a minute per charger.

`bulk_create` compiles its statement and prepares every value through its field each time; for
a MeterValues with nine samples that costs several times the database's own work. Here the
statement is built once per model, columns and row count. On PostgreSQL the rows go as one
multi-row INSERT (one statement for the server to parse and run, not one per row), and its
driver adapts the plain values these rows hold (numbers, text, Decimal, aware datetimes,
booleans, None) itself; other databases get one `executemany`, each value through its field's
`get_db_prep_save`, as `bulk_create` would. Rows are dicts keyed by field attname
(`charger_id`) and must name their tenant.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection, models

# Rows per statement on PostgreSQL: far below its 65,535 parameters, and few distinct statements.
CHUNK = 100


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
    defaulted = fields[len(names) :]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                params = [
                    value
                    for row in chunk
                    for value in (
                        *(row[name] for name in names),
                        *(field.get_default() for field in defaulted),
                    )
                ]
                cursor.execute(_statement(model, names, ignore_conflicts, len(chunk)), params)
        return
    params = [
        tuple(
            field.get_db_prep_save(row.get(field.attname, field.get_default()), connection)
            for field in fields
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_statement(model, names, ignore_conflicts, 1), params)
