import django.utils.timezone
from django.db import migrations, models


def accept_existing(apps, schema_editor):
    """Memberships made before invitations needed consent stay as they were: accepted."""
    Membership = apps.get_model("cpms", "Membership")
    Membership.objects.update(accepted_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("cpms", "0005_tenant_logo"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="accepted_at",
            field=models.DateTimeField(blank=True, null=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(accept_existing, migrations.RunPython.noop),
    ]
