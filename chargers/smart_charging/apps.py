from django.apps import AppConfig


class SmartChargingConfig(AppConfig):
    name = "chargers.smart_charging"
    label = "smart_charging"
    verbose_name = "Smart charging"

    def ready(self):
        from chargers.smart_charging import events  # noqa: F401 (catalogued)
        from chargers.smart_charging.listeners import subscribe_all

        subscribe_all()
