"""The navigation every page shows, built from what the user may do."""

from django.urls import reverse
from django.utils.translation import gettext as _


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated and not user.must_change_password:
        items.append((_("首页"), reverse("portal:home")))
        items.append((_("帮助"), reverse("portal:help")))
    return {"nav_items": items}
