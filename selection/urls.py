from django.urls import path

from selection import views

app_name = "selection"
UNIT = "campaigns/<int:campaign_id>/units/<int:unit_id>/"
urlpatterns = [
    path("", views.entry_list, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("entries.xlsx", views.export, name="export"),
    path("entries/<int:pk>/", views.entry_detail, name="entry"),
    path("entries/<int:pk>/history/", views.entry_history, name="entry_history"),
    path("entries/<int:pk>/<str:action>/", views.entry_action, name="action"),
    path(UNIT + "confirm/", views.confirm, name="confirm"),
    path(UNIT + "unlock/", views.unlock, name="unlock"),
    path(UNIT + "reopen/", views.reopen, name="reopen"),
    path(UNIT + "summary/", views.summary, name="summary"),
    path(UNIT + "summary.xlsx", views.summary_xlsx, name="summary_xlsx"),
    path(UNIT + "package.zip", views.package_zip, name="package_zip"),
    path(UNIT + "history/", views.unit_history, name="history"),
    path(UNIT + "history.xlsx", views.unit_history_xlsx, name="history_xlsx"),
    path("campaigns/<int:campaign_id>/progress/", views.progress, name="progress"),
    path("campaigns/<int:campaign_id>/progress.xlsx", views.progress_xlsx, name="progress_xlsx"),
]
