"""Django app configuration for local face matching."""

from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """Face models, pipeline and search; Django is used only for settings and commands."""

    name = "matching"
    verbose_name = "Face matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from matching import checks  # noqa: F401  (registers the system check)
