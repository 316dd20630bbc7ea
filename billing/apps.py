from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Tariffs, charge detail records and invoices land here (see the roadmap in README.md)."""

    name = "billing"
    verbose_name = "Billing"
