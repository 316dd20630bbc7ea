from django.apps import AppConfig


class CpmsConfig(AppConfig):
    name = "cpms"
    verbose_name = "Platform and tenancy"

    def ready(self):
        # Subscribes the webhook outbox to the domain events.
        from cpms import webhooks  # noqa: F401
