from django.urls import path

from showcase import views

app_name = "showcase"
urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("<int:pk>/", views.course, name="course"),
    path("<int:pk>/files/<int:resource_id>/", views.file, name="file"),
    path("<int:pk>/files/<int:resource_id>/poster.jpg", views.poster, name="poster"),
]
