from django.apps import AppConfig


class CpmsConfig(AppConfig):
    name = "cpms"
    verbose_name = "Platform and tenancy"

    def ready(self):
        from cpms import webhooks
        from cpms.events import IN_TRANSACTION, DomainEvent, subscribe

        # The outbox row is written in the publishing transaction: it commits with the fact.
        subscribe(DomainEvent, webhooks.write_outbox, phase=IN_TRANSACTION)
