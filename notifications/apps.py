from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "通知与提醒"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from notifications import (
            checks,  # noqa: F401  (tells teachers whose course fails its checks)
            permissions,  # noqa: F401  (registers the rules permissions)
            receivers,  # noqa: F401  (listens to what selection announces)
        )
