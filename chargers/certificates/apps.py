from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "chargers.certificates"
    label = "certificates"
    verbose_name = "Charger certificates"

    def ready(self):
        from chargers.certificates import checks, listeners  # noqa: F401 (checks register)
        from chargers.events import CommandFinished
        from cpms.events import AFTER_COMMIT, subscribe

        # Replies to CertificateSigned and to the root certificate commands are heard through
        # the charger domain's events: the command path knows nothing of certificates.
        subscribe(CommandFinished, listeners.on_command_finished, phase=AFTER_COMMIT)
