from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkersConfig(AppConfig):
    """Task worker processes: heartbeats, and requeueing the tasks of workers that died."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workers"
    verbose_name = _("后台任务进程")

    def ready(self):
        from workers import checks  # noqa: F401  (registers the deploy checks)
