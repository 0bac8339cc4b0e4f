"""The public 公示 pages (no login): mounted at /gongshi/ before the portal."""

from django.urls import path

from review import publicity_views

app_name = "review_public"
urlpatterns = [
    path("", publicity_views.public_list, name="list"),
    path("<str:slug>/", publicity_views.public_detail, name="detail"),
    path("<str:slug>/received/", publicity_views.received, name="received"),
]
