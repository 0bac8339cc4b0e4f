from django.urls import path

from exports import views

app_name = "exports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("courses/", views.export_courses, name="courses"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/download/", views.job_download, name="download"),
]
