from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CpmsConfig(AppConfig):
    name = "cpms"
    verbose_name = _("Platform and tenancy")

    def ready(self):
        from cpms import checks  # noqa: F401 (registers the deployment checks)
        from cpms.events import IN_TRANSACTION, DomainEvent, subscribe
        from cpms.services import webhooks as webhook_services

        # The outbox row is written in the publishing transaction: it commits with the fact.
        subscribe(DomainEvent, webhook_services.webhook_outbox_write, phase=IN_TRANSACTION)
