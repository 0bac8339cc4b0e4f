"""The tus 1.0 endpoint at /api/v1/uploads/ (plain Django views: tus is not JSON)."""

from django.urls import path  # noqa: F401

urlpatterns = []
