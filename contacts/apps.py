from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "工作联系表"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from contacts import permissions  # noqa: F401  (registers the rules permissions)
