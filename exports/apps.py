from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """全部申报导出: every course in the user's scope as one streamed XLSX (large ones as a job)."""

    name = "exports"
    verbose_name = _("申报导出")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from exports import permissions  # noqa: F401  (registers the rules permissions)
