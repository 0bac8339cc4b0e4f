from django.urls import path

from awards import views

app_name = "awards_public"
urlpatterns = [
    path("verify/<str:token>/", views.verify, name="verify"),
    path("commendations/<int:pk>/", views.commendation, name="commendation"),
    path("commendations/<int:pk>.pdf", views.commendation_pdf, name="commendation_pdf"),
]
