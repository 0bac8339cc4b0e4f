from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.nodes, name="nodes"),
    path("textbooks/", views.textbooks, name="textbooks"),
    path("textbooks/<int:pk>/", views.textbook_detail, name="textbook"),
    path("import/excel/", views.import_excel, name="import_excel"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/json/", views.import_json, name="import_json"),
    path("campaigns/<int:pk>/open/", views.campaign_open, name="campaign_open"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign_close"),
]
