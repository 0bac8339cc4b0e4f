from django.urls import path

from originality import views

app_name = "originality"
urlpatterns = [
    path("", views.match_list, name="list"),
    path("<int:pk>/", views.match_detail, name="match"),
    path("review/<int:assignment_id>/<int:pk>/", views.blind_match, name="blind"),
]
