from django.apps import AppConfig


class SelectionConfig(AppConfig):
    name = "selection"
    verbose_name = "推荐与遴选"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from selection import permissions  # noqa: F401  (registers the rules permissions)
