from django.urls import path

from api import views

app_name = "account"
urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
]
