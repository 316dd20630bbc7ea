"""Transactional tests (about 600) end with Django's flush: one TRUNCATE of every table. On
PostgreSQL a TRUNCATE gives each table and each index new files: 0.3 s a test on an idle
machine, over a second in the parallel suite. A test leaves a handful of rows, and a DELETE
per table empties them in a tenth of that time. Django's foreign keys are DEFERRABLE INITIALLY
DEFERRED, so the DELETEs' order does not matter in the flush's one transaction; the audit
trail refuses DELETE unless the transaction says it is a purge (cpms.audit.guard), as this
one does first. A flush that resets sequences or cascades keeps Django's TRUNCATE.
"""

from django.db.backends.postgresql.operations import DatabaseOperations

from cpms.audit.guard import PURGE_SETTING

_truncate = DatabaseOperations.sql_flush


def _delete(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or allow_cascade or not tables:
        return _truncate(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    purge = f"SELECT set_config('{PURGE_SETTING}', 'on', true);"
    # Table names from Django's introspection, quoted.
    return [purge, *(f"DELETE FROM {self.quote_name(table)};" for table in tables)]  # noqa: S608


def pytest_configure(config):
    DatabaseOperations.sql_flush = _delete
