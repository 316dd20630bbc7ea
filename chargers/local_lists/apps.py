from django.apps import AppConfig


class LocalListsConfig(AppConfig):
    name = "chargers.local_lists"
    label = "local_lists"
    verbose_name = "Local authorization lists"

    def ready(self):
        from chargers.events import ChargerBooted, CommandFinished, IdTokenBlocked
        from chargers.local_lists import listeners
        from cpms.events import AFTER_COMMIT, subscribe

        # The lists hear the chargers and the tokens through the charger domain's events only.
        subscribe(ChargerBooted, listeners.on_boot, phase=AFTER_COMMIT)
        subscribe(CommandFinished, listeners.on_command_finished, phase=AFTER_COMMIT)
        subscribe(IdTokenBlocked, listeners.on_token_blocked, phase=AFTER_COMMIT)
