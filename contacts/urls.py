from django.urls import path

from contacts import views

app_name = "contacts"
UNIT = "campaigns/<int:campaign_id>/units/<int:unit_id>/"
urlpatterns = [
    path("", views.home, name="home"),
    path(UNIT, views.form, name="form"),
    path(UNIT + "scan/", views.scan, name="scan"),
    path(UNIT + "reopen/", views.reopen, name="reopen"),
    path("campaigns/<int:campaign_id>/export.xlsx", views.export, name="export"),
]
