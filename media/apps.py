from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = "文件与检测"
    default_auto_field = "django.db.models.BigAutoField"
