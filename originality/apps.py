from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OriginalityConfig(AppConfig):
    """Signatures of videos and documents, the index across campaigns and years, and the matches."""

    name = "originality"
    verbose_name = _("原创性检测")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from originality import (
            permissions,  # noqa: F401  (registers the rules permissions)
            receivers,  # noqa: F401  (listens to media.signals.file_probed)
        )
