from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "课程申报"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from courses import (
            permissions,  # noqa: F401  (registers the rules permissions)
            signals,  # noqa: F401  (re-evaluate checks when probes or specs change)
        )
        from courses.search import ensure_triggers

        post_migrate.connect(ensure_triggers, sender=self, dispatch_uid="courses.search.ensure_triggers")
        from courses import areas

        post_migrate.connect(areas.ensure_triggers, sender=self, dispatch_uid="courses.areas.ensure_triggers")
