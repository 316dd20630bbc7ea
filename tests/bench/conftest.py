"""The benchmarks' scratch databases are copies of one migrated database (their
`--database-template`): migrating an empty database costs 20 s of CPU, copying one a fraction
of a second."""

import pytest
from django.db import connection

from bench.targets import create_scratch_database, drop_scratch_database
from tests.helpers import database_url

TEMPLATE_PREFIX = "cpms_template_"


@pytest.fixture(scope="session")
def migrated_template(django_db_setup, django_db_blocker):
    """A copy of the test database (migrated, and emptied by each transactional test), or ""
    on SQLite; dropped at the end."""
    if connection.vendor != "postgresql":
        yield ""
        return
    with django_db_blocker.unblock():
        server = database_url(connection.settings_dict)
        # PostgreSQL copies a database only while nobody is connected to it: this process first.
        connection.close()
        connection.close_pool()
        name = create_scratch_database(server, TEMPLATE_PREFIX, connection.settings_dict["NAME"])
    try:
        yield name
    finally:
        drop_scratch_database(server, name)
