from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    """Certificates of a level's awards (PDF + QR), their verification page and revocation."""

    name = "awards"
    verbose_name = _("证书与表彰")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from awards import permissions, receivers  # noqa: F401  (registers the rules permissions and receivers)
        from selection.services import ACTION_LABELS

        ACTION_LABELS.update({
            "awards.template.update": _("修改证书模板"), "awards.issue": _("颁发证书"),
            "awards.certificate.issue": _("颁发证书"), "awards.certificate.revoke": _("撤销证书"),
        })
