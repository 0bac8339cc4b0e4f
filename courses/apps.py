from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "课程申报"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from courses import permissions  # noqa: F401  (registers the rules permissions)
        from courses import signals  # noqa: F401  (re-evaluate checks when probes or specs change)
