"""Django app config for the policy engine (only the management command needs Django)."""

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Purpose-limitation engine and field transforms; imports nothing from ``gateway``."""

    name = "policies"
    verbose_name = "Release policies"
    default_auto_field = "django.db.models.BigAutoField"
