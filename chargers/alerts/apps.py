from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "chargers.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self):
        from chargers.alerts import events  # noqa: F401 (the alerts' events, catalogued)
        from chargers.alerts.events import AlertOpened
        from chargers.alerts.listeners import forget_open_alerts, queue_evaluation
        from chargers.alerts.rules import HANDLERS
        from cpms.events import AFTER_COMMIT, IN_TRANSACTION, subscribe

        # Listening to domain events is how rules hear of faults, boots and refusals; only
        # the events a rule handles are listened to (meter readings are not).
        for event_type in HANDLERS:
            subscribe(event_type, queue_evaluation, phase=AFTER_COMMIT)
        subscribe(AlertOpened, forget_open_alerts, phase=IN_TRANSACTION)
