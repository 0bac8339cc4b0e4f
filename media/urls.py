from django.urls import path

from media import views

app_name = "media"
urlpatterns = [
    path("<uuid:file_id>/", views.file, name="file"),
    path("<uuid:file_id>/poster.jpg", views.poster, name="poster"),
    path("<uuid:file_id>/title.jpg", views.title_frame, name="title_frame"),
]
