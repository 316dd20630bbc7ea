from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChargersConfig(AppConfig):
    name = "chargers"
    verbose_name = _("Chargers and sessions")

    def ready(self):
        from chargers import events  # noqa: F401 (the charger domain's events, catalogued)
        from chargers.dashboard.push import push_to_dashboards
        from chargers.events import CommandFinished
        from chargers.ocpp import transaction_status
        from cpms.events import AFTER_COMMIT, DomainEvent, subscribe

        # Every committed event of a tenant rings its live dashboards, whichever app's it is.
        subscribe(DomainEvent, push_to_dashboards, phase=AFTER_COMMIT)
        # E14: a transaction's queued reports are asked after until they are in (bounded).
        subscribe(CommandFinished, transaction_status.on_command_finished, phase=AFTER_COMMIT)
