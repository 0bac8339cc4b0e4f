from django.urls import path

from orgs import views

app_name = "orgs"
urlpatterns = [
    path("units/", views.units, name="units"),
    path("units/new/", views.unit_create, name="unit_create_root"),
    path("units/import/", views.unit_import, name="unit_import"),
    path("units/import/template/", views.unit_template, name="unit_template"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/children/new/", views.unit_create, name="unit_create"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/import/", views.user_import, name="user_import"),
    path("users/import/template/", views.user_template, name="user_template"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/memberships/", views.membership_add, name="membership_add"),
    path("users/<int:pk>/memberships/<int:mid>/remove/", views.membership_remove, name="membership_remove"),
    path("users/<int:pk>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
]
