from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "chargers.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        # Listening to domain events is how rules hear of faults, boots and refusals.
        from chargers.alerts import listeners  # noqa: F401
