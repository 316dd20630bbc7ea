"""The database's own refusal to change audit entries (PostgreSQL): a trigger refuses every
UPDATE, and every DELETE unless the transaction said it is the retention job's purge. Anyone
with the application's database role can still drop the trigger; it stops mistakes and the
ORM, not a database administrator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

PURGE_SETTING = "cpms.audit_purge"

CREATE_TRIGGER = f"""
CREATE OR REPLACE FUNCTION audit_entry_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are never changed (%)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_entry_immutable ON audit_auditentry;
CREATE TRIGGER audit_entry_immutable BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_immutable();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS audit_entry_immutable ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_immutable();
"""


@contextmanager
def purging() -> Iterator[None]:
    """A transaction in which the trigger lets DELETE through (SET LOCAL ends with it)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_SETTING])
        yield
