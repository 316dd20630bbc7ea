from django.db import migrations, models


def snapshot_parties(apps, schema_editor):
    """Documents issued before they kept their parties take them as they stand now (the
    best there is): the customer's or site owner's details and the tenant's name."""
    Invoice = apps.get_model("billing", "Invoice")
    Statement = apps.get_model("billing", "Statement")
    for invoice in Invoice.objects.select_related("customer", "tenant").iterator():
        customer = invoice.customer
        invoice.issuer = {"name": invoice.tenant.name}
        invoice.recipient = {
            "name": customer.name,
            "street": customer.street,
            "postal_code": customer.postal_code,
            "city": customer.city,
            "country": customer.country,
            "vat_id": customer.vat_id,
            "email": customer.email,
        }
        invoice.save(update_fields=["issuer", "recipient"])
    for statement in Statement.objects.select_related("site_owner", "tenant").iterator():
        owner = statement.site_owner
        statement.issuer = {"name": statement.tenant.name}
        statement.recipient = {"name": owner.name, "email": owner.contact_email}
        statement.save(update_fields=["issuer", "recipient"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_running_cost"),
        ("cpms", "0006_membership_accepted_at"),
    ]

    operations = [
        # The tenant's one row of billing settings: the running cost interval it had, and now
        # the seller's legal details, payment terms and e-invoicing.
        migrations.RenameModel("CostDisplaySettings", "BillingSettings"),
        migrations.RemoveConstraint(
            model_name="billingsettings", name="costdisplaysettings_unique"
        ),
        migrations.AddConstraint(
            model_name="billingsettings",
            constraint=models.UniqueConstraint(fields=("tenant",), name="billingsettings_unique"),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="legal_name",
            field=models.CharField(
                blank=True, help_text="As registered; the tenant's name when empty.", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="street",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="postal_code",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="city",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="country",
            field=models.CharField(
                blank=True, help_text="ISO 3166 alpha-2, e.g. DE.", max_length=2
            ),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="vat_id",
            field=models.CharField(blank=True, max_length=30, verbose_name="VAT id"),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="payment_terms",
            field=models.CharField(
                blank=True, default="Payable within 14 days of the issue date.", max_length=300
            ),
        ),
        migrations.AddField(
            model_name="billingsettings",
            name="facturx",
            field=models.BooleanField(
                default=False,
                help_text="Invoices issued from now on are PDF/A-3 documents with their EN "
                "16931 XML (Factur-X / ZUGFeRD) embedded.",
                verbose_name="Factur-X e-invoices",
            ),
        ),
        # Documents keep their parties as issued.
        migrations.AddField(
            model_name="invoice",
            name="issuer",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="invoice",
            name="recipient",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="invoice",
            name="payment_terms",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="invoice",
            name="facturx",
            field=models.BooleanField(
                default=False,
                help_text="Issued as a Factur-X e-invoice: its PDF carries the EN 16931 XML.",
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="issuer",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="statement",
            name="recipient",
            field=models.JSONField(default=dict),
        ),
        migrations.RunPython(snapshot_parties, migrations.RunPython.noop),
    ]
