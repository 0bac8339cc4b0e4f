from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "教材目录"

    def ready(self):
        from catalog import permissions  # noqa: F401  (registers the rules permissions)
