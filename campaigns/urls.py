from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("import/", views.template_import, name="import"),
    path("from-template/", views.from_template, name="from_template"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/categories/", views.edit_categories, name="categories"),
    path("<int:pk>/categories/<str:category>/slots/", views.edit_slots, name="slots"),
    path("<int:pk>/categories/<str:category>/specs/", views.edit_specs, name="specs"),
    path("<int:pk>/levels/", views.edit_levels, name="levels"),
    path("<int:pk>/overrides/", views.overrides, name="overrides"),
    path("<int:pk>/overrides/<int:override_pk>/delete/", views.override_delete, name="override_delete"),
    path("<int:pk>/quotas/", views.quotas, name="quotas"),
    path("<int:pk>/quotas/defaults/", views.edit_default_quotas, name="default_quotas"),
    path("<int:pk>/quotas/<int:quota_pk>/delete/", views.quota_delete, name="quota_delete"),
    path("<int:pk>/rules/", views.edit_rules, name="rules"),
    path("<int:pk>/contacts/", views.edit_contacts, name="contacts"),
    path("<int:pk>/notices/", views.notices, name="notices"),
    path("<int:pk>/notices/<int:notice_pk>/edit/", views.notice_edit, name="notice_edit"),
    path("<int:pk>/notices/<int:notice_pk>/delete/", views.notice_delete, name="notice_delete"),
    path("<int:pk>/notices/<int:notice_pk>/file/", views.notice_file, name="notice_file"),
    path("<int:pk>/export/", views.export, name="export"),
]
