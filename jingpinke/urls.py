from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from orgs import views as orgs_views

urlpatterns = [
    # The API first: nearly every request is one, and no pattern below begins with "api/" (a path
    # went through ~20 patterns, and the awards' "" include's failed match, before reaching it).
    path("api/v1/uploads/", include("media.tus_urls")),
    path("api/v1/", include("api.urls")),
    path("accounts/login/", orgs_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", orgs_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("orgs/", include("orgs.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("catalog/", include("catalog.urls")),
    path("courses/", include("courses.urls")),
    path("selection/", include("selection.urls")),
    path("contacts/", include("contacts.urls")),
    path("review/", include("review.urls")),
    path("awards/", include("awards.urls")),
    path("reports/", include("reports.urls")),
    path("exports/", include("exports.urls")),
    path("showcase/", include("showcase.urls")),
    path("originality/", include("originality.urls")),
    path("", include("awards.urls_public")),
    path("notifications/", include("notifications.urls")),
    path("files/", include("media.urls")),
    path("account/", include("api.page_urls")),
    path("django-admin/", admin.site.urls),
    path("gongshi/", include("review.urls_public")),
    path("", include("portal.urls")),
]

# JSON under /api/ (an unmatched path such as /api/v1/campaigns/abc), Django's page elsewhere.
handler404 = "api.views.not_found"
