"""App configuration for the gateway."""

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "Custodian gateway"

    def ready(self) -> None:
        # Sign-in events go to the one audit writer; importing the module connects its receivers.
        from gateway.audit import receivers  # noqa: F401
