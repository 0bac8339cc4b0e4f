"""The tus 1.0 endpoint at /api/v1/uploads/ (plain Django views: tus is not JSON)."""

from django.urls import path

from media import tus

urlpatterns = [
    path("", tus.collection, name="tus-collection"),
    path("<uuid:upload_id>", tus.resource, name="tus-resource"),
]
