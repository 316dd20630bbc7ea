from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "chargers.configuration"
    label = "configuration"
    verbose_name = "Configuration templates and drift"

    def ready(self):
        from chargers.configuration import listeners
        from chargers.events import ChargerBooted, CommandFinished, DeviceModelReported
        from cpms.events import AFTER_COMMIT, subscribe

        # Drift follows what the chargers report, heard through the charger domain's events
        # only: the protocol layer knows nothing of templates.
        subscribe(ChargerBooted, listeners.on_boot, phase=AFTER_COMMIT)
        subscribe(CommandFinished, listeners.on_command_finished, phase=AFTER_COMMIT)
        subscribe(DeviceModelReported, listeners.on_device_model_reported, phase=AFTER_COMMIT)
