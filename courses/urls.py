from django.urls import path

from courses import views

app_name = "courses"
SLOT = "<int:pk>/periods/<int:number>/<str:kind>/"
urlpatterns = [
    path("", views.course_list, name="list"),
    path("new/", views.course_create, name="create"),
    path("new/nodes/", views.node_picker, name="node_picker"),
    path("<int:pk>/", views.course_detail, name="detail"),
    path("<int:pk>/autosave/", views.autosave, name="autosave"),
    path("<int:pk>/relocate/", views.course_relocate, name="relocate"),
    path("<int:pk>/delete/", views.course_delete, name="delete"),
    path("<int:pk>/periods/<int:number>/title/", views.period_title, name="period_title"),
    path("<int:pk>/members/", views.members, name="members"),
    path("<int:pk>/submit-box/", views.submit_box, name="submit_box"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path(SLOT, views.slot, name="slot"),
    path(SLOT + "attach/", views.attach, name="attach"),
    path(SLOT + "remove/", views.remove, name="remove"),
    path(SLOT + "restore/", views.restore, name="restore"),
    path(SLOT + "file/", views.resource_file, name="file"),
    path(SLOT + "poster.jpg", views.resource_file, {"part": "poster"}, name="poster"),
    path(SLOT + "title.jpg", views.resource_file, {"part": "title"}, name="title_frame"),
]
