from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SelectionConfig(AppConfig):
    name = "selection"
    verbose_name = "推荐与遴选"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from selection import permissions  # noqa: F401  (registers the rules permissions)
        from selection.tally import ensure_triggers

        post_migrate.connect(ensure_triggers, sender=self, dispatch_uid="selection.tally.ensure_triggers")
