from django.apps import AppConfig


class FirmwareConfig(AppConfig):
    name = "chargers.firmware"
    label = "firmware"
    verbose_name = "Firmware and diagnostics"

    def ready(self):
        from chargers.events import (
            ChargerBooted,
            CommandFinished,
            OperationStatusReported,
            SessionStopped,
        )
        from chargers.firmware import (
            events,  # noqa: F401 (the firmware events, catalogued)
            listeners,
        )
        from cpms.events import AFTER_COMMIT, subscribe

        # The orchestrator hears the chargers through the charger domain's events only: the
        # protocol layer knows nothing of campaigns.
        subscribe(ChargerBooted, listeners.on_boot, phase=AFTER_COMMIT)
        subscribe(OperationStatusReported, listeners.on_status, phase=AFTER_COMMIT)
        subscribe(CommandFinished, listeners.on_command_finished, phase=AFTER_COMMIT)
        subscribe(SessionStopped, listeners.on_session_stopped, phase=AFTER_COMMIT)
