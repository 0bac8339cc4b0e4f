from django.urls import path

from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_index, name="help"),
    path("help/<slug:role>/", views.help_page, name="help_role"),
    path("healthz", views.healthz, name="healthz"),
]
