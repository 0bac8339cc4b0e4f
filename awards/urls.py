from django.urls import path

from awards import views

app_name = "awards"
urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.mine, name="mine"),
    path("mine.xlsx", views.mine_xlsx, name="mine_xlsx"),
    path("mine.pdf", views.mine_pdf, name="mine_pdf"),
    path("levels/<int:level_id>/units/<int:unit_id>/", views.place, name="place"),
    path("levels/<int:level_id>/units/<int:unit_id>/preview.pdf", views.preview, name="preview"),
    path("levels/<int:level_id>/units/<int:unit_id>/issue/", views.issue, name="issue"),
    path("levels/<int:level_id>/units/<int:unit_id>/certificates.zip", views.archive, name="archive"),
    path("certificates/<int:cert_id>.pdf", views.download, name="download"),
    path("certificates/<int:cert_id>/revoke/", views.revoke, name="revoke"),
    path("commendations/campaigns/<int:campaign_id>/units/<int:unit_id>/", views.commendation_new,
         name="commendation_new"),
]
