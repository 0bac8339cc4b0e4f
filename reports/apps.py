from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "统计"

    def ready(self):
        from reports import permissions  # noqa: F401  (registers the rules permissions)
