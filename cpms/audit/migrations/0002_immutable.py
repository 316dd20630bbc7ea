"""On PostgreSQL, a trigger refuses to change audit entries (cpms.audit.guard)."""

from django.db import migrations

from cpms.audit import guard


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(guard.CREATE_TRIGGER, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(guard.DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_entries")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
