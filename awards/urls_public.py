from django.urls import path

from awards import views

app_name = "awards_public"
urlpatterns = [
    path("verify/<str:token>/", views.verify, name="verify"),
]
